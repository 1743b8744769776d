// Where the test suite finds its fixtures: the sd-tiny conformance fixtures (our own copy in test/fixtures,
// so a fresh clone passes anywhere, or another set in the same manifest format named by
// RERENDER_SD_FIXTURES), and the bundled sample project that tests copy as a new user would get it.
import fs from 'node:fs';
import path from 'node:path';
import { SAMPLE_PROJECT_FILE, SAMPLE_VIDEO_FILE } from '../../main/engine/project/sample-project';
import { projectPaths } from '../../main/engine/project/paths';

export const SD_TINY = process.env.RERENDER_SD_FIXTURES
  ? path.resolve(process.env.RERENDER_SD_FIXTURES)
  : path.resolve(__dirname, '..', 'fixtures', 'sd-tiny');

/** The bundled sample project (resources/sample): its document and source video, as a new user gets them. */
export const SAMPLE_DIR = path.resolve(__dirname, '..', '..', 'resources', 'sample');

/** Copies the bundled sample project (document, video, painted keyframe images) into `dir` (made if missing); returns its project file there. */
export function copySampleProject(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of [SAMPLE_PROJECT_FILE, SAMPLE_VIDEO_FILE]) fs.copyFileSync(path.join(SAMPLE_DIR, f), path.join(dir, f));
  const assets = path.basename(projectPaths(path.join(SAMPLE_DIR, SAMPLE_PROJECT_FILE)).assetsDir);
  fs.cpSync(path.join(SAMPLE_DIR, assets), path.join(dir, assets), { recursive: true });
  return path.join(dir, SAMPLE_PROJECT_FILE);
}
