// Project commands: new, info, keyframes, import-keyframe, export.
import path from 'node:path';
import type { Command } from '../command';
import { cliProgress } from '../progress';
import { UserError, CancelToken } from '../../../native-models/src/errors';
import { createProject } from '../../engine/project/create';
import { readProjectFile } from '../../engine/project/project-file';
import { ProjectStore } from '../../engine/project/project-store';
import { applySuggestedKeyframes, hasUserImage, setKeyframeFrames } from '../../engine/project/keyframes';
import { uniformKeyframes, adaptiveKeyframes, frameDifferences } from '../../engine/project/keyframe-suggest';
import { importKeyframeImage } from '../../engine/project/keyframe-images';
import { exportProject } from '../../engine/project/export-project';
import { projectStatus } from '../../engine/project/status';
import { projectPaths } from '../../engine/project/paths';
import { formatRational, fpsValue } from '../../engine/frames';
import { checkSource, ensureFrameCache, relinkSource, resamples } from '../../engine/project/source-video';
import { ffprobeRotation } from '../../engine/media/probe';
import type { ExportFormat } from '../../engine/media/export';
import { parseExportSize } from '../../../preload/export-size';
import { EXPORT_FORMATS } from '../../../preload/project-schema';
import { count } from '../../../preload/plural';

/** Ctrl-C cancels the running job cleanly (temp files removed, earlier results kept). */
function interruptToken(): CancelToken {
  const token = new CancelToken();
  process.once('SIGINT', () => token.cancel('cancelled by Ctrl-C'));
  return token;
}

function parseCrop(text: string | undefined) {
  if (text === undefined) return null;
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0)) throw new UserError(`--crop expects four whole numbers left,right,top,bottom in pixels, got "${text}"`);
  return { left: parts[0], right: parts[1], top: parts[2], bottom: parts[3] };
}

export const newCommand: Command = {
  name: 'new',
  positionals: 1,
  summary: 'create a project from a video or an image sequence (decodes frames at the working resolution)',
  usage: `
usage: rerender new <project-file.rerender> --video <path> [--short-side N | --long-side N] [--crop l,r,t,b]
                    [--allow-truncated] [--constant-fps] [--json]
       rerender new <project-file.rerender> --video <folder> --fps R [--allow-gaps] [options as above]

  --video <path>     the source video (any format ffmpeg reads), or a folder of PNG or JPEG frames
                     (an image sequence: numbered files of one size, e.g. 0001.png, 0002.png, …)
  --fps R            the image sequence's frame rate: 24, 25, 23.976 (= 24000/1001), 29.97, 30000/1001
  --allow-gaps       take a sequence's frames in order although frame numbers are missing
  --short-side N     scale so the short side is N (default 512), sides rounded to multiples of 64
  --long-side N      scale so the long side is N instead
  --crop l,r,t,b     pixels to cut from the left, right, top and bottom of the source first
  --allow-truncated  keep what decodes from a video holding fewer frames than it announces
  --constant-fps     resample a variable-frame-rate video to its average rate (default: every
                     frame once, exported with its own timing)
Keyframes are placed every 10 frames; change them with \`rerender keyframes\`.`,
  flags: ['allow-truncated', 'constant-fps', 'allow-gaps'],
  async run(args, ctx) {
    const file = args.positional[0];
    if (!file) throw new UserError('missing the project file to create (e.g. my-clip.rerender)');
    const shortSide = args.int('short-side');
    const longSide = args.int('long-side');
    if (shortSide !== undefined && longSide !== undefined) throw new UserError('use either --short-side or --long-side, not both');
    const progress = cliProgress('decoding');
    const p = await createProject(file, args.requireString('video'), {
      mode: longSide !== undefined ? 'long-side' : 'short-side',
      size: longSide ?? shortSide,
      crop: parseCrop(args.string('crop')),
      allowTruncated: args.flag('allow-truncated'),
      constantFps: args.flag('constant-fps'),
      fps: args.string('fps'),
      allowGaps: args.flag('allow-gaps'),
      cancel: interruptToken(),
      onProgress: progress,
    });
    progress.done();
    if (ctx.json) ctx.out(JSON.stringify({ ok: true, project: path.resolve(file), frames: p.frames.count, width: p.working.width, height: p.working.height, fps: fpsValue(p.frames.fps), keyframes: p.keyframes.map((k) => k.frame) }));
    else ctx.out(`created ${file}: ${p.frames.count} frames at ${p.working.width}×${p.working.height}, ${formatRational(p.frames.fps)} fps, ${count(p.keyframes.length, 'keyframe')}`);
  },
};

export const infoCommand: Command = {
  name: 'info',
  positionals: 1,
  summary: 'show frames, fps, working size, keyframes and segments with their status',
  usage: `usage: rerender info <project-file> [--json]`,
  async run(args, ctx) {
    const file = args.positional[0];
    if (!file) throw new UserError('missing the project file');
    const p = await readProjectFile(file);
    const segments = projectStatus(file, p);
    const check = await checkSource(file, p);
    const sourceProblem = check.status === 'ok' ? undefined : check.problem;
    // Rotation as ffprobe prints it (the display matrix's counter-clockwise degrees), the way users read it.
    const source = { ...p.source, rotation: ffprobeRotation(p.source.rotation), pixelAspect: p.source.pixelAspect ?? { num: 1, den: 1 } };
    if (ctx.json) {
      ctx.out(JSON.stringify({
        ok: true, name: p.name, source, sourceStatus: check.status, sourceProblem, frames: p.frames.count,
        timing: p.source.variableFrameRate && !resamples(p) ? 'source' : 'constant', fps: fpsValue(p.frames.fps), fpsRational: formatRational(p.frames.fps),
        width: p.working.width, height: p.working.height, mode: p.mode, cache: projectPaths(file).cacheDir,
        keyframes: p.keyframes.map((k) => ({ id: k.id, frame: k.frame, source: k.source, status: k.status, image: k.image, note: k.note })),
        segments: segments.map((s) => ({ id: s.segment.id, start: s.segment.start, end: s.segment.end, status: s.status, framesDone: s.framesDone, reason: s.reason })),
      }));
      return;
    }
    const sar = source.pixelAspect.num !== source.pixelAspect.den ? `, pixel aspect ${source.pixelAspect.num}:${source.pixelAspect.den}` : '';
    const rotated = source.rotation ? `, rotation ${source.rotation}°` : '';
    const timing = p.source.variableFrameRate ? (resamples(p) ? ', variable rate resampled' : ', variable rate: source frame times kept') : '';
    const kind = p.source.sequence ? `image sequence ${p.source.sequence.first} to ${p.source.sequence.last}, ` : '';
    ctx.out(`${p.name}: ${p.frames.count} frames, ${formatRational(p.frames.fps)} fps${timing}, ${p.working.width}×${p.working.height} (source ${kind}${p.source.width}×${p.source.height}${sar}${rotated}${p.source.hasAudio ? ', with audio' : ''})`);
    if (sourceProblem) ctx.out(`source: ${sourceProblem}`);
    ctx.out(`mode: ${p.mode}; prompt: ${p.render.prompt ? JSON.stringify(p.render.prompt) : '(none yet)'}`);
    ctx.out(`keyframes (${p.keyframes.length}):`);
    for (const k of p.keyframes) ctx.out(`  frame ${String(k.frame).padStart(5)}  ${k.source.padEnd(9)} ${k.status}${k.note ? ` (${k.note})` : ''}`);
    ctx.out(`segments (${segments.length}):`);
    for (const s of segments) ctx.out(`  ${s.segment.id.padEnd(12)} frames ${s.segment.start}-${s.segment.end}  ${s.status}${s.reason ? ` (${s.reason})` : ''}`);
  },
};

export const keyframesCommand: Command = {
  name: 'keyframes',
  positionals: 1,
  summary: 'set keyframes: a list, every K frames, or chosen from the content',
  usage: `
usage: rerender keyframes <project-file> (--set 0,10,25 | --every K | --auto [--min 5 --max 20]) [--json]

  --set a,b,c     exactly these frames (0-based)
  --every K       frames 0, K, 2K, …
  --auto          at changes of content (blurred frame difference), gaps between --min and --max
Keyframes that stay keep their images and settings. --every and --auto replace only empty keyframes: one
with an image (imported, painted or rendered) or earlier renders stays where it is, as the editor's
Suggest keyframes does; --set gives exactly the frames listed.`,
  flags: ['auto'],
  async run(args, ctx) {
    const file = args.positional[0];
    if (!file) throw new UserError('missing the project file');
    const p = await readProjectFile(file);
    const chosen = [args.string('set') !== undefined, args.int('every') !== undefined, args.flag('auto')].filter(Boolean).length;
    if (chosen !== 1) throw new UserError('choose exactly one of --set, --every, --auto');
    let frames: number[];
    const exact = args.string('set') !== undefined;
    if (exact) {
      frames = args.string('set')!.split(',').filter((s) => s.trim() !== '').map((s) => {
        const n = Number(s.trim());
        if (!Number.isInteger(n)) throw new UserError(`--set expects frame numbers separated by commas, got "${s}"`);
        return n;
      });
      if (frames.length === 0) throw new UserError('--set needs at least one frame');
    } else if (args.int('every') !== undefined) {
      frames = uniformKeyframes(p.frames.count, args.int('every')!);
    } else {
      await ensureFrameCache(file, p, { thumbnails: true }); // the thumbnails are compared: rebuilt if the cache was deleted
      const diffs = await frameDifferences(projectPaths(file).thumbsDir, p.frames.count, { cancel: interruptToken() });
      frames = adaptiveKeyframes(diffs, args.int('min') ?? 5, args.int('max') ?? 20);
    }
    const next = await ProjectStore.with(file, async (store) => {
      store.apply('Set keyframes', (now) => (exact ? setKeyframeFrames(now, frames) : applySuggestedKeyframes(now, frames)));
      await store.save();
      return store.project;
    }, { app: 'rerender keyframes' });
    const list = next.keyframes.map((k) => k.frame);
    // Keyframes a suggestion did not name, kept for the user's images.
    const kept = exact ? [] : next.keyframes.filter((k) => !frames.includes(k.frame) && hasUserImage(k)).map((k) => k.frame);
    if (ctx.json) ctx.out(JSON.stringify({ ok: true, keyframes: list, keptForImages: kept }));
    else ctx.out(`${count(list.length, 'keyframe')}: ${list.join(', ')}${kept.length ? ` (kept for their images: ${kept.join(', ')})` : ''}`);
  },
};

export const importKeyframeCommand: Command = {
  name: 'import-keyframe',
  positionals: 1,
  summary: 'use an image (painted or made elsewhere) as the keyframe at a frame',
  usage: `
usage: rerender import-keyframe <project-file> --frame N --image <path> [--painted] [--json]

The image is copied into the project's assets folder, resized to the working resolution; an image of
another shape is scaled to cover the frames and centre-cropped, and the output says what was cut.`,
  flags: ['painted'],
  async run(args, ctx) {
    const file = args.positional[0];
    if (!file) throw new UserError('missing the project file');
    const frame = args.int('frame');
    if (frame === undefined) throw new UserError('missing --frame N');
    const next = await ProjectStore.with(file, async (store) => {
      await store.applyAsync(async (p) => ({ label: 'Import keyframe image', project: await importKeyframeImage(file, p, frame, args.requireString('image'), args.flag('painted') ? 'painted' : 'imported') }));
      await store.save();
      return store.project;
    }, { app: 'rerender import-keyframe' });
    // The import sets the keyframe's note: what fitting an image of another shape cut off, else none.
    const k = next.keyframes.find((x) => x.frame === frame)!;
    if (ctx.json) ctx.out(JSON.stringify({ ok: true, frame, id: k.id, image: k.image, cropped: k.note ?? null }));
    else ctx.out(`keyframe at frame ${frame} now uses ${k.image}${k.note ? `\n${k.note}` : ''}`);
  },
};

export const exportCommand: Command = {
  name: 'export',
  positionals: 1,
  summary: 'write the video (mp4, webm, gif, ProRes or a folder of PNG frames) with the source audio',
  usage: `
usage: rerender export <project-file> --out <path> [--format ${Object.keys(EXPORT_FORMATS).join('|')}] [--allow-incomplete]
                       [--range A-B] [--side-by-side] [--size source|working|WxH] [--force] [--no-audio]
                       [--start-number N] [--json]

  --format            default: from the file name (.mp4, .webm, .gif, .mov for prores; a folder for png)
                      prores: ProRes 422 HQ (10-bit 4:2:2, Rec. 709) in a MOV, the sound as PCM
  --allow-incomplete  take frames that are not rendered yet from the source instead of failing
  --range A-B         export frames A to B only (inclusive, 0-based)
  --side-by-side      source and result next to each other
  --size S            source (default): the source's own pixels (display size, square pixels) over the part of
                      the picture the working frames show; working: the working size; or WxH (even sides)
  --force             replace an earlier export at --out (a frames folder only if an export made it)
  --no-audio          without the source's sound and subtitles (e.g. when the source is missing)
  --start-number N    png: number the frames from N (default 0), e.g. 1, or 86400 for a 01:00:00:00 start at 24 fps
A frames export goes into a new or empty folder; the source's audio tracks and text subtitles are kept
where the format holds them, and what is left out is listed.`,
  flags: ['allow-incomplete', 'side-by-side', 'force', 'no-audio'],
  async run(args, ctx) {
    const file = args.positional[0];
    if (!file) throw new UserError('missing the project file');
    const p = await readProjectFile(file);
    const format = args.string('format') as ExportFormat | undefined;
    if (format && !Object.hasOwn(EXPORT_FORMATS, format)) throw new UserError(`--format must be one of ${Object.keys(EXPORT_FORMATS).join(', ')}, got "${format}"`);
    const startNumber = args.int('start-number');
    const sizeText = args.string('size');
    const size = sizeText === undefined ? undefined : parseExportSize(sizeText);
    if (sizeText !== undefined && !size) throw new UserError(`--size must be source, working or WxH with even sides from 16 to 16384 (e.g. 1280x720), got "${sizeText}"`);
    let range: { start: number; end: number } | undefined;
    const r = args.string('range');
    if (r) {
      const m = /^(\d+)-(\d+)$/.exec(r);
      if (!m) throw new UserError(`--range expects A-B, got "${r}"`);
      range = { start: Number(m[1]), end: Number(m[2]) };
    }
    const progress = cliProgress('exporting');
    const result = await exportProject(file, p, {
      out: args.requireString('out'), format, allowIncomplete: args.flag('allow-incomplete'), range,
      sideBySide: args.flag('side-by-side'), size, overwrite: args.flag('force'), withoutAudio: args.flag('no-audio'), startNumber,
      cancel: interruptToken(), onProgress: progress,
    });
    progress.done();
    if (ctx.json) ctx.out(JSON.stringify({ ok: true, ...result }));
    else {
      ctx.out(`wrote ${result.out} (${count(result.frames, 'frame')} at ${result.width}×${result.height}${result.fromSource ? `, ${result.fromSource} taken from the source` : ''})`);
      for (const t of result.leftOut) ctx.out(`left out: ${t}`);
    }
  },
};

export const relinkCommand: Command = {
  name: 'relink',
  positionals: 1,
  summary: 'point the project at its source video after the video was moved or renamed',
  usage: `
usage: rerender relink <project-file> --video <path> [--json]

The video must be the project's source: the same frame count, frame rate and size (checked by probing).
An image sequence's project takes the folder of its frames: the same number of frames, of the same size.`,
  async run(args, ctx) {
    const file = args.positional[0];
    if (!file) throw new UserError('missing the project file');
    const video = args.requireString('video');
    const next = await ProjectStore.with(file, async (store) => {
      const relinked = await relinkSource(file, store.project, video);
      store.apply('Relink source video', (p) => ({ ...p, source: relinked.source }));
      await store.save();
      return store.project;
    }, { app: 'rerender relink' });
    if (ctx.json) ctx.out(JSON.stringify({ ok: true, source: next.source.path }));
    else ctx.out(`${file} now uses ${next.source.path}`);
  },
};
