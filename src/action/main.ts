import * as core from '@actions/core';

/** Placeholder orchestration until the action lands: fails loudly rather than pass anything. */
export async function run(): Promise<void> {
  core.setFailed('modelgate action: not built yet');
}
