import type { AnalysisContext } from '../../context.js';
import type { Location } from '../../types.js';

/** Why an archive member name escapes the extraction folder (empty when it does not). */
export function unsafeNameReasons(name: string): string[] {
  const parts = name.split(/[/\\]/);
  const why: string[] = [];
  if (name.startsWith('/') || name.startsWith('\\')) why.push('absolute path');
  if (/^[a-zA-Z]:/.test(name)) why.push('drive letter');
  if (parts.includes('..')) why.push('parent-directory component');
  if (name.includes('\\')) why.push('backslash separator');
  if (name.includes('\u0000')) why.push('NUL byte');
  return why;
}

/** Reports MG208 for a member name that escapes the extraction folder. */
export function checkMemberName(ctx: AnalysisContext, name: string, loc: Location): void {
  const why = unsafeNameReasons(name);
  if (why.length > 0) {
    ctx.report(
      'MG208',
      `Member name "${name}" is unsafe (${why.join(', ')}); extracting it writes outside the target folder.`,
      loc,
    );
  }
}
