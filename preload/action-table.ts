// Every user action's name, label and shortcut, written once. The renderer's action registry
// (`renderer/actions.ts`) adds what each one does; the Electron menu (`main/shell/menu-template.ts`)
// shows the same label and accelerator. Both import this table, so it lives in the shared contract.

export type ActionGroup = 'File' | 'Edit' | 'Keyframes' | 'Playback' | 'View' | 'Render' | 'Help';

export interface ActionDeclaration {
  name: string;
  /** Shown in menus, the help overlay and tooltips. */
  label: string;
  /** A longer explanation, shown next to the label in the help overlay and in tooltips. */
  hint?: string;
  group: ActionGroup;
  /**
   * The key press, as shown: modifiers `Ctrl+` (Cmd on a Mac) and `Shift+`, then a letter, a digit, a
   * symbol (`=`, `?`), an arrow (`→`) or a key name (`Delete`, `Space`, `Home`, `F1`).
   */
  shortcut?: string;
  /** Other key presses that do the same, not shown (Backspace for Delete, Ctrl+Y for redo). */
  alsoKeys?: readonly string[];
  /** Needs an open project. */
  needsProject?: boolean;
}

export const ACTION_TABLE = [
  { name: 'file.new', label: 'New project from a video…', group: 'File', shortcut: 'Ctrl+N' },
  { name: 'file.open', label: 'Open project…', group: 'File', shortcut: 'Ctrl+O' },
  { name: 'file.save', label: 'Save', group: 'File', shortcut: 'Ctrl+S', needsProject: true },
  { name: 'file.saveAs', label: 'Save as…', group: 'File', shortcut: 'Ctrl+Shift+S', needsProject: true },
  { name: 'file.close', label: 'Close project', hint: 'back to the start screen', group: 'File', shortcut: 'Ctrl+W', needsProject: true },
  { name: 'file.export', label: 'Export video…', group: 'File', shortcut: 'Ctrl+E', needsProject: true },
  { name: 'file.models', label: 'Models…', group: 'File' },
  { name: 'edit.undo', label: 'Undo', group: 'Edit', shortcut: 'Ctrl+Z', needsProject: true },
  { name: 'edit.redo', label: 'Redo', group: 'Edit', shortcut: 'Ctrl+Shift+Z', alsoKeys: ['Ctrl+Y'], needsProject: true },
  { name: 'keyframe.add', label: 'Add keyframe at playhead', group: 'Keyframes', shortcut: 'K', needsProject: true },
  { name: 'keyframe.delete', label: 'Delete selected keyframes', group: 'Keyframes', shortcut: 'Delete', alsoKeys: ['Backspace'], needsProject: true },
  { name: 'keyframe.selectAll', label: 'Select all keyframes', group: 'Keyframes', shortcut: 'Ctrl+A', needsProject: true },
  { name: 'keyframe.next', label: 'Next keyframe', group: 'Keyframes', shortcut: ']', needsProject: true },
  { name: 'keyframe.previous', label: 'Previous keyframe', group: 'Keyframes', shortcut: '[', needsProject: true },
  { name: 'keyframe.suggest', label: 'Suggest keyframes…', group: 'Keyframes', shortcut: 'Shift+K', needsProject: true },
  { name: 'keyframe.importImage', label: 'Import image as keyframe…', group: 'Keyframes', shortcut: 'I', needsProject: true },
  { name: 'keyframe.suggestHere', label: 'Suggest a keyframe here', hint: 'add one where the keyframes cover the video worst', group: 'Keyframes', shortcut: 'Shift+E', needsProject: true },
  { name: 'keyframe.editExternally', label: 'Edit in external editor', hint: "a paint program; saves come back as the keyframe's image", group: 'Keyframes', shortcut: 'Shift+I', needsProject: true },
  { name: 'file.externalEditor', label: 'External editor…', hint: 'the paint program keyframes are edited in', group: 'File' },
  { name: 'keyframe.revert', label: 'Revert keyframe to project settings', group: 'Keyframes', needsProject: true },
  { name: 'render.keyframe', label: 'Render this keyframe', group: 'Render', shortcut: 'R', needsProject: true },
  { name: 'render.regenerate', label: 'Regenerate (new seed)', group: 'Render', shortcut: 'Shift+R', needsProject: true },
  { name: 'render.all', label: 'Render keyframes not done yet', hint: 'empty, stale or failed', group: 'Render', shortcut: 'Ctrl+R', needsProject: true },
  { name: 'render.rerenderAll', label: 'Re-render all keyframes', hint: 'replaces finished ones', group: 'Render', shortcut: 'Ctrl+Shift+R', needsProject: true },
  { name: 'render.withDiffusion', label: 'Render with diffusion instead', hint: 'keeps the imported image in the history', group: 'Render', needsProject: true },
  { name: 'render.propagate', label: 'Propagate keyframes to all frames', group: 'Render', shortcut: 'P', needsProject: true },
  { name: 'render.propagateSegment', label: 'Propagate the segment at the playhead', group: 'Render', shortcut: 'Shift+P', needsProject: true },
  { name: 'render.measureFlicker', label: 'Measure flicker', hint: 'warp error per frame', group: 'Render', needsProject: true },
  { name: 'play.toggle', label: 'Play / pause', group: 'Playback', shortcut: 'Space', needsProject: true },
  { name: 'play.next', label: 'Next frame', group: 'Playback', shortcut: '→', needsProject: true },
  { name: 'play.previous', label: 'Previous frame', group: 'Playback', shortcut: '←', needsProject: true },
  { name: 'play.next10', label: 'Forward 10 frames', group: 'Playback', shortcut: 'Shift+→', needsProject: true },
  { name: 'play.previous10', label: 'Back 10 frames', group: 'Playback', shortcut: 'Shift+←', needsProject: true },
  { name: 'play.start', label: 'Go to first frame', group: 'Playback', shortcut: 'Home', needsProject: true },
  { name: 'play.end', label: 'Go to last frame', group: 'Playback', shortcut: 'End', needsProject: true },
  { name: 'view.zoomIn', label: 'Zoom timeline in', group: 'View', shortcut: '=', alsoKeys: ['+'], needsProject: true },
  { name: 'view.zoomOut', label: 'Zoom timeline out', group: 'View', shortcut: '-', needsProject: true },
  { name: 'view.zoomFit', label: 'Fit the whole video', group: 'View', shortcut: '0', needsProject: true },
  { name: 'view.source', label: 'Preview: source frame', group: 'View', shortcut: '1' },
  { name: 'view.keyframe', label: 'Preview: keyframe result', group: 'View', shortcut: '2' },
  { name: 'view.output', label: 'Preview: propagated frame', group: 'View', shortcut: '3' },
  { name: 'view.errorMap', label: 'Preview: show the error map over the frame', group: 'View', shortcut: 'E' },
  { name: 'view.wipe', label: 'Compare with source: A/B wipe', group: 'View', shortcut: 'W' },
  { name: 'view.sideBySide', label: 'Compare with source: side by side', group: 'View', shortcut: 'B' },
  { name: 'help.shortcuts', label: 'Keyboard shortcuts', group: 'Help', shortcut: '?', alsoKeys: ['F1'] },
] as const satisfies readonly ActionDeclaration[];

export type ActionName = (typeof ACTION_TABLE)[number]['name'];

const declared = new Map<string, ActionDeclaration>(ACTION_TABLE.map((a) => [a.name, a]));

export function actionDeclaration(name: string): ActionDeclaration | undefined {
  return declared.get(name);
}

/** A shortcut split into its modifiers and its key, as `KeyboardEvent.key` names it. */
interface KeyChord { mod: boolean; shift: boolean; key: string }

const KEY_NAMES: Record<string, string> = { '→': 'ArrowRight', '←': 'ArrowLeft', '↑': 'ArrowUp', '↓': 'ArrowDown', Space: ' ' };

function chord(shortcut: string): KeyChord {
  const parts = shortcut.split('+');
  // A trailing "+" is the key itself ("Ctrl++" would split into ['Ctrl', '', '']).
  const key = parts.length > 1 && parts[parts.length - 1] === '' ? '+' : parts[parts.length - 1];
  const mods = parts.slice(0, key === '+' && parts.length > 1 ? -2 : -1);
  for (const m of mods) if (m !== 'Ctrl' && m !== 'Shift') throw new Error(`shortcut "${shortcut}": unknown modifier "${m}" (use Ctrl+ and Shift+)`);
  return { mod: mods.includes('Ctrl'), shift: mods.includes('Shift'), key: KEY_NAMES[key] ?? key };
}

/** The parts of a key press a shortcut is matched against (a DOM KeyboardEvent has them). */
export interface KeyPress { key: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }

/**
 * Whether a key press is the shortcut. Ctrl matches Cmd too; Alt never matches. Shift must be as written
 * for letters and named keys; for symbols it is ignored, since keyboard layouts differ in which need it
 * (`?` is Shift+/ on one and a key of its own on another).
 */
export function matchesShortcut(shortcut: string, e: KeyPress): boolean {
  const c = chord(shortcut);
  if (e.altKey || (e.ctrlKey || e.metaKey) !== c.mod) return false;
  const letter = /^[a-z]$/i.test(c.key);
  if (letter) return e.key.toLowerCase() === c.key.toLowerCase() && e.shiftKey === c.shift;
  if (c.key.length > 1) return e.key === c.key && e.shiftKey === c.shift;
  return e.key === c.key;
}

const ACCELERATOR_KEYS: Record<string, string> = { ArrowRight: 'Right', ArrowLeft: 'Left', ArrowUp: 'Up', ArrowDown: 'Down', ' ': 'Space', '+': 'Plus' };

/** The shortcut in Electron's accelerator syntax ("Ctrl+Shift+S" → "CmdOrCtrl+Shift+S", "→" → "Right"). */
export function accelerator(shortcut: string): string {
  const c = chord(shortcut);
  const key = ACCELERATOR_KEYS[c.key] ?? (c.key.length === 1 ? c.key.toUpperCase() : c.key);
  return [...(c.mod ? ['CmdOrCtrl'] : []), ...(c.shift ? ['Shift'] : []), key].join('+');
}
