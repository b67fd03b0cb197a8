// NumPy `.npz`: a zip of `.npy` arrays (numpy.savez / savez_compressed). Each member goes through
// ctx.scanNested, where the NumPy analyzer validates the header and scans object arrays as pickles.
import { scanMembers, type ZipFlavor } from './analyzer.js';

export const npzFlavor: ZipFlavor = {
  id: 'numpy-npz',
  format: 'numpy-npz',
  match(zip) {
    const files = zip.entries.filter((e) => !e.isDirectory);
    // numpy.savez names every member `<key>.npy`; a majority is enough to read the archive as npz (the
    // odd members are reported below).
    const npy = files.filter((e) => e.name.endsWith('.npy'));
    return (
      files.length > 0 && npy.length * 2 > files.length && !files.some((e) => e.name.endsWith('data.pkl'))
    );
  },
  async analyze(ctx, zip) {
    await scanMembers(ctx, zip, {
      onScanned(e, fmt) {
        if (!e.name.endsWith('.npy') || (fmt !== 'numpy' && fmt !== undefined)) {
          ctx.report(
            'MG330',
            `Member "${e.name}" of the npz is ${fmt ?? 'not a NumPy array'}; numpy.load reads every member as an array.`,
            { member: e.name },
          );
        } else if (fmt === undefined) {
          ctx.report('MG330', `Member "${e.name}" is named .npy but is not a NumPy array.`, {
            member: e.name,
          });
        }
      },
    });
  },
};
