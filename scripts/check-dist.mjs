// Fails when the committed dist/ differs from a fresh build: the action and the CLI run the bundle, not src/.
import { execFileSync } from 'node:child_process';

execFileSync(process.execPath, ['build.mjs'], { stdio: 'inherit' });
const diff = execFileSync('git', ['status', '--porcelain', '--', 'dist'], { encoding: 'utf8' });
if (diff.trim() !== '') {
  console.error(`dist/ is stale: a fresh build changed it. Run \`npm run build\` and commit dist/.\n${diff}`);
  process.exit(1);
}
console.log('dist/ is fresh');
