// The editor's own settings (not the project's): recent projects, models folder, execution provider,
// the paint program of "Edit in external editor".
// One small JSON file; a damaged file is replaced by defaults rather than stopping the app.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../fs/atomic';
import { PROVIDER_CHOICES } from '../../../native-models/src/runtime/provider-names';
import { externalEditorSetting } from './external-editor';
import { CACHE_LIMIT_GB } from '../project/cache-collector';

const settingsSchema = z.object({
  recent: z.array(z.string().max(4096)).max(20).default([]),
  modelsFolder: z.string().max(4096).nullable().default(null),
  /** An unknown name (a provider from another build, a hand edit) falls back to trying every one. */
  provider: z.enum(PROVIDER_CHOICES).catch('auto').default('auto'),
  externalEditor: externalEditorSetting.nullable().default(null),
  /**
   * The render farm's Redis URL with its password, in plain text (Node has no OS keychain): the file is
   * written readable by its owner only (mode 0600), or null for this machine.
   */
  farmUrl: z.string().max(4096).nullable().default(null),
  /** Old segment outputs are collected when a project's output cache exceeds this (GB). */
  cacheLimitGb: z.number().min(CACHE_LIMIT_GB.min).max(CACHE_LIMIT_GB.max).catch(CACHE_LIMIT_GB.default).default(CACHE_LIMIT_GB.default),
});
export type AppSettings = z.infer<typeof settingsSchema>;

const RECENT_LIMIT = 10;

/** Where settings live outside Electron (Electron passes its userData folder instead). */
export function defaultSettingsFile(): string {
  return path.join(os.homedir(), '.rerender', 'settings.json');
}

export class AppSettingsStore {
  private value: AppSettings;

  constructor(private readonly file: string) {
    let doc: unknown = {};
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch { /* missing or damaged: start from defaults */ }
    const parsed = settingsSchema.safeParse(doc);
    this.value = parsed.success ? parsed.data : settingsSchema.parse({});
  }

  get(): AppSettings {
    return this.value;
  }

  async update(change: Partial<AppSettings>): Promise<AppSettings> {
    this.value = settingsSchema.parse({ ...this.value, ...change });
    await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
    // Only the user may read it: it may hold the farm's password (see farmUrl).
    await writeFileAtomic(this.file, JSON.stringify(this.value, null, 2) + '\n', { mode: 0o600 });
    return this.value;
  }

  /** Puts a project at the top of the recent list. */
  async addRecent(projectFile: string): Promise<AppSettings> {
    const abs = path.resolve(projectFile);
    return this.update({ recent: [abs, ...this.value.recent.filter((f) => f !== abs)].slice(0, RECENT_LIMIT) });
  }
}
