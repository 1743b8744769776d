// Choosing the paint program "Edit in external editor" opens keyframe images in: its path and its
// arguments, one per line (each line is one argument; nothing is run through a shell). The engine
// checks the program exists and can be run before keeping the setting.
import { useEffect, useState } from 'react';
import { editor } from '../store';
import { askPath, perform } from '../actions';

export function ExternalEditorDialog({ then }: { then?: string }) {
  const [program, setProgram] = useState('');
  const [args, setArgs] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const electron = editor.get().info?.mode === 'electron';
  useEffect(() => {
    void editor.get().api.call('externalEditor.get', {}).then((s) => { if (s) { setProgram(s.program); setArgs(s.args.join('\n')); } }, () => undefined);
  }, []);
  const save = async (clear = false) => {
    try {
      const lines = args.split('\n').map((a) => a.replace(/\r$/, '')).filter((a) => a !== '');
      await editor.get().api.call('externalEditor.set', { program: clear ? null : program, args: clear ? [] : lines });
      editor.set({ dialog: null, notice: clear ? 'no paint program chosen' : `keyframe images open in ${program.trim()}` });
      if (then && !clear) void perform(then);
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <div className="dialog" role="dialog" aria-label="External editor" data-testid="external-editor-dialog">
      <h2>External editor</h2>
      <p className="muted">The paint program that <b>Edit in external editor</b> opens keyframe images in. Save the image there and it comes back as the keyframe&apos;s new image (undo returns to the one before).{electron ? ' Leave it empty to use the system\'s default app for PNG images.' : ''}</p>
      <label>Program (its full path, or a name on the PATH)
        <span className="row">
          <input data-testid="external-program" value={program} placeholder="/usr/bin/gimp" onChange={(e) => { setProgram(e.target.value); setProblem(null); }} />
          <button type="button" onClick={async () => {
            const chosen = await askPath('program', 'Choose the paint program', 'Program', program.trim() || undefined);
            if (chosen) { setProgram(chosen); setProblem(null); }
          }}>Choose…</button>
        </span>
      </label>
      <label>Arguments, one per line ({'{file}'} stands for the image; without it the image is the last argument)
        <textarea data-testid="external-args" rows={3} value={args} onChange={(e) => { setArgs(e.target.value); setProblem(null); }} />
      </label>
      {problem && <p className="error" role="alert" data-testid="external-problem">{problem}</p>}
      <div className="buttons">
        <button className="primary" onClick={() => void save()}>Save</button>
        <button onClick={() => void save(true)}>Clear</button>
        <button onClick={() => editor.set({ dialog: null })}>Cancel</button>
      </div>
    </div>
  );
}
