// ffmpeg's concat demuxer lists ("ffconcat"): a list of images read as one video, each image one frame at
// its own time. Exports read frames this way, and image-sequence sources are decoded this way.
import { UserError } from '../../../native-models/src/errors';

/** ffconcat quoting: inside single quotes everything is literal, a quote is closed, escaped and reopened. */
function quote(file: string): string {
  if (/[\n\r]/.test(file)) throw new UserError('frame file names cannot hold line breaks', file);
  return `'${file.replace(/'/g, "'\\''")}'`;
}

/**
 * One image per frame, each lasting until the next frame's time. Times are in µs (framerate 1000000
 * keeps them exact: the image demuxer would round them to 1/25 s otherwise).
 */
export function imageConcatList(files: string[], timesUs: number[]): string {
  const lines = ['ffconcat version 1.0'];
  files.forEach((file, k) => {
    lines.push(`file ${quote(file)}`, 'option framerate 1000000');
    if (k + 1 < files.length) lines.push(`duration ${((timesUs[k + 1] - timesUs[k]) / 1e6).toFixed(6)}`);
  });
  return lines.join('\n') + '\n';
}
