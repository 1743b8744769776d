// A valid project document for tests that need one without decoding a video.
import type { Project } from '../../preload/project-schema';
import { newProjectDocument } from '../../main/engine/project/defaults';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';

export function sampleProject(frameCount = 50, keyframes: number[] = [0, 10, 20]): Project {
  const p = newProjectDocument({
    name: 'test',
    source: { path: 'clip.mp4', width: 640, height: 360, rotation: 0, fps: { num: 24, den: 1 }, variableFrameRate: false, durationSeconds: frameCount / 24, hasAudio: false, fileSize: 1000, modifiedMs: 0 },
    working: { mode: 'short-side', size: 512, crop: null, width: 896, height: 512 },
    frames: { count: frameCount, fps: { num: 24, den: 1 } },
  });
  return setKeyframeFrames(p, keyframes);
}
