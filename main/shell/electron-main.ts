// The Electron shell (the only code that imports electron): one instance, one locked-down window on
// app://, native menus and dialogs, validated IPC to the editor, workers in utility processes.
import { app, BrowserWindow, dialog, ipcMain, Menu, screen, session as electronSession, shell, type OpenDialogOptions } from 'electron';
import { secureWebPreferences } from './window-options';
import fs from 'node:fs';
import path from 'node:path';
import { callNames, EVENT_CHANNEL, IPC_PREFIX, events, PICK_FILTERS, type CallParams } from '../../preload/api';
import { createEditor, dispatchCall, type Editor } from '../engine/editor/editor-api';
import { validateIpcCall, APP_ORIGIN, isAppUrl } from './ipc-validation';
import { registerAppScheme, handleAppProtocol } from './app-protocol';
import { spawnUtilityWorker } from './utility-worker';
import { buildMenu } from './menu';
import { UserError } from '../../native-models/src/errors';
import { DEFAULT_WINDOW, restoreWindowState, saveWindowState } from './window-state';
import { PROJECT_EXTENSION } from '../engine/project/paths';
import { bundledSampleDir, ensureSampleProject, userSampleDir } from '../engine/project/sample-project';
import { appRoot } from '../engine/editor/app-files';

/** The app folder (package.json): app.asar when packaged, the checkout in development (`electron dist/main/…`). */
const root = appRoot(__dirname);
let win: BrowserWindow | undefined;
let editor: Editor;
/** A project the OS asked us to open before the window existed. */
let pendingFile: string | undefined;

registerAppScheme();
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', (_e, argv) => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
    const file = projectArg(argv);
    if (file) openInWindow(file);
  });
  // macOS opens documents (Finder double-click, dock drop) through this event, possibly before ready.
  app.on('open-file', (e, file) => {
    e.preventDefault();
    if (win) openInWindow(file);
    else pendingFile = file;
  });
  app.whenReady().then(start);
}

function projectArg(argv: readonly string[]): string | undefined {
  return argv.slice(1).find((a) => a.endsWith(PROJECT_EXTENSION) && !a.startsWith('-'));
}

/** Opens a project through the renderer's file.open action, which asks about unsaved changes first. */
function openInWindow(file: string): void {
  win?.webContents.send(EVENT_CHANNEL, { event: 'app.command', payload: { action: 'file.open', path: file } });
}

/**
 * The sample project to open: the user's copy in Documents, made from the bundled one on first use. The
 * bundled files are never opened themselves (a project writes its cache, autosave and lock beside itself,
 * and saving would change them: read-only when packaged, the git checkout's own in development).
 */
function sampleProjectFile(): Promise<string> {
  return ensureSampleProject(bundledSampleDir(app.isPackaged ? process.resourcesPath : path.join(root, 'resources')), userSampleDir(app.getPath('documents')));
}

function openSampleProject(): void {
  sampleProjectFile().then(openInWindow, (err) => dialog.showErrorBox('Could not open the sample project', (err as Error).message));
}

/** The shared filters (preload/api.ts), with "All files" after them where a file is chosen. */
const filters = (purpose: CallParams<'dialog.pick'>['purpose']): OpenDialogOptions['filters'] => {
  // Programs have no extension outside Windows: any file there (the engine checks it can be run).
  if (purpose === 'program') return process.platform === 'win32' ? [{ name: 'Programs', extensions: ['exe', 'com', 'bat', 'cmd'] }] : undefined;
  return PICK_FILTERS[purpose].length ? [...PICK_FILTERS[purpose], ...(purpose === 'video' ? [{ name: 'All files', extensions: ['*'] }] : [])] : undefined;
};

async function pickPath(p: CallParams<'dialog.pick'>): Promise<string | null> {
  if (!win) return null;
  if (p.purpose === 'save-project' || p.purpose === 'export') {
    const r = await dialog.showSaveDialog(win, { defaultPath: p.suggestedName, filters: filters(p.purpose) });
    return r.canceled || !r.filePath ? null : r.filePath;
  }
  const folder = p.purpose === 'models-folder';
  const r = await dialog.showOpenDialog(win, { defaultPath: p.suggestedName, filters: filters(p.purpose), properties: [folder ? 'openDirectory' : 'openFile', ...(folder ? ['createDirectory' as const] : [])] });
  return r.canceled ? null : r.filePaths[0] ?? null;
}

function registerIpc(): void {
  for (const name of callNames) {
    const channel = `${IPC_PREFIX}${name}`;
    ipcMain.handle(channel, async (event, params: unknown) => {
      const frame = event.senderFrame;
      // Only the editor window's top frame speaks for the user (not an iframe, not another window).
      const ours = !!win && event.sender === win.webContents && frame === win.webContents.mainFrame;
      const verdict = validateIpcCall(channel, params, frame ? { url: frame.url, isMainFrame: ours } : null);
      if (!verdict.ok) return { ok: false, error: { message: verdict.error } };
      return dispatchCall(editor.handlers, verdict.name, verdict.params);
    });
  }
  for (const event of Object.keys(events) as Array<keyof typeof events>) {
    editor.on(event, (payload) => win?.webContents.send(EVENT_CHANNEL, { event, payload }));
  }
}

function refreshMenu(): void {
  Menu.setApplicationMenu(buildMenu(() => win, editor.settings.get().recent, openSampleProject));
}

function createWindow(): void {
  const stateFile = path.join(app.getPath('userData'), 'window-state.json');
  const saved = restoreWindowState(stateFile, screen.getAllDisplays().map((d) => d.workArea));
  win = new BrowserWindow({
    ...(saved ?? DEFAULT_WINDOW),
    minWidth: 900,
    minHeight: 600,
    backgroundColor: '#0f1115',
    title: 'Rerender',
    show: false,
    webPreferences: secureWebPreferences(path.join(root, 'dist', 'preload', 'preload.js')),
  });
  if (saved?.maximized) win.maximize();
  win.once('ready-to-show', () => win?.show());
  const contents = win.webContents;
  contents.on('will-navigate', (e, url) => { if (!isAppUrl(url)) e.preventDefault(); });
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('render-process-gone', (_e, details) => {
    if (details.reason !== 'clean-exit') contents.reload(); // the project and jobs live in main; nothing is lost
  });
  win.on('close', (e) => {
    const w = win!;
    saveWindowState(stateFile, { ...w.getNormalBounds(), maximized: w.isMaximized() });
    if (!editor.session.state()?.dirty) return;
    const choice = dialog.showMessageBoxSync(w, {
      type: 'question', buttons: ['Save', "Don't Save", 'Cancel'], defaultId: 0, cancelId: 2,
      message: 'Save changes to the project before closing?', detail: 'Unsaved changes are also kept in an autosave beside the project.',
    });
    if (choice === 2) return e.preventDefault();
    if (choice === 0) {
      e.preventDefault();
      void editor.session.save().then(() => w.destroy(), (err) => dialog.showErrorBox('Could not save the project', (err as Error).message));
    }
  });
  win.on('closed', () => { win = undefined; });
  void win.loadURL(`${APP_ORIGIN}/index.html`);
}

async function start(): Promise<void> {
  editor = createEditor({
    platform: { mode: 'electron', version: app.getVersion(), pickPath, reveal: (file) => shell.showItemInFolder(file),
      openPath: async (file) => { const problem = await shell.openPath(file); if (problem) throw new UserError(`could not open ${file}: ${problem}`, file); } },
    settingsFile: path.join(app.getPath('userData'), 'settings.json'),
    workerModules: { propagation: path.join(root, 'dist', 'workers', 'propagation-worker.js'), inference: path.join(root, 'dist', 'workers', 'inference-worker.js') },
    spawn: spawnUtilityWorker,
  });
  // The renderer needs no permissions (camera, notifications, …): refuse every request.
  electronSession.defaultSession.setPermissionRequestHandler((_wc, _perm, done) => done(false));
  handleAppProtocol(path.join(root, 'dist', 'renderer'), () => editor.session.file, () => (editor.session.file ? editor.session.project() : undefined));
  registerIpc();
  refreshMenu();
  let lastFile: string | undefined;
  editor.on('project.changed', (s) => {
    if (s?.file !== lastFile) { lastFile = s?.file; refreshMenu(); }
  });
  let file = pendingFile ?? projectArg(process.argv);
  // `npm start` asks for the sample with --sample: the user's copy, as on an installed app's first run.
  if (!file && process.argv.includes('--sample')) {
    file = await sampleProjectFile().catch((err: Error) => void dialog.showErrorBox('Could not open the sample project', err.message));
  }
  // Started without a document, the installed app reopens the latest project that still exists; on a
  // first run (none yet) it starts on a copy of the sample instead of an empty editor.
  if (!file && app.isPackaged) file = editor.settings.get().recent.find((f) => fs.existsSync(f));
  if (!file && app.isPackaged) {
    const sample = await sampleProjectFile().catch((err: Error) => void dialog.showErrorBox('Could not open the sample project', err.message));
    file = pendingFile ?? sample; // a document the OS handed over meanwhile wins
  }
  if (file) {
    const opened = await dispatchCall(editor.handlers, 'project.open', { file: path.resolve(file) });
    if (!opened.ok) dialog.showErrorBox('Could not open the project', opened.error.message);
  }
  createWindow();
  app.on('activate', () => { if (!win) createWindow(); });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// Quitting waits (briefly: the workers' grace period at most) for the autosave and for the worker
// processes to exit, so none is left running after the app.
let quitting = false;
app.on('will-quit', (event) => {
  if (!editor || quitting) return;
  quitting = true;
  event.preventDefault();
  void editor.dispose().finally(() => app.quit());
});
