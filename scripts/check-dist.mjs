// Fails when the committed dist/ differs from a fresh build: the action and the CLI run the bundle, not src/.
import { execFileSync } from 'node:child_process';

execFileSync(process.execPath, ['build.mjs'], { stdio: 'inherit' });
// Every output counts (the action, the CLI's launcher and bundle, maps, notices): a changed file, a file the
// build no longer makes, and a new file not yet committed (untracked files are listed too).
const diff = execFileSync('git', ['status', '--porcelain', '--untracked-files=all', '--', 'dist'], {
  encoding: 'utf8',
});
if (diff.trim() !== '') {
  console.error(`dist/ is stale: a fresh build changed it. Run \`npm run build\` and commit dist/.\n${diff}`);
  process.exit(1);
}
console.log('dist/ is fresh');
