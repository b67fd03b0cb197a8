import { VERSION } from '../version.js';

/** Where modelgate lives; reports link rule documentation and the tool's home here. */
export const PROJECT_URL = 'https://github.com/modelgate/modelgate';

/**
 * The documentation of one rule: its row in docs/rules.md at the release that produced the report, so the
 * text matches the scanner that reported it. The row carries an HTML anchor named after the lower-case id.
 */
export function ruleDocUrl(ruleId: string): string {
  return `${PROJECT_URL}/blob/v${VERSION}/docs/rules.md#${ruleId.toLowerCase()}`;
}
