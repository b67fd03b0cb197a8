import { defineRules } from './rule.js';

/**
 * Rules of the CI integration: the content of a change that could not be got hold of (an LFS object, a submodule,
 * the pull request's head). They live in the core, not in the action, because every face reads them: merged
 * shard reports, the result cache and SARIF name these rule ids whichever face produced the finding.
 */
export const ciRules = defineRules([
  {
    id: 'MG700',
    slug: 'lfs_object_unavailable',
    title: 'Git LFS object could not be fetched',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    description:
      'The changed file is a Git LFS pointer and the action could not download the object it names (no git-lfs, no access to the LFS store, a quota, or an object missing from a fork). The model itself was not scanned, so it cannot be called clean.',
    remediation:
      'Make the object available to the workflow (checkout with `persist-credentials: true`, LFS access for the token, or `actions/checkout` with `lfs: true`) and run again.',
  },
  {
    id: 'MG701',
    slug: 'lfs_object_mismatch',
    title: 'Git LFS content does not match its pointer',
    severity: 'high',
    score: 0,
    kind: 'incomplete',
    cwe: 345,
    description:
      'The content delivered for a Git LFS pointer has a different sha256 or size from the one the pointer (the committed file) names. What was delivered is not what was committed, so it was not scanned in its place.',
    remediation:
      'Find out why the LFS store serves different bytes (a replaced object, a misconfigured LFS server) and push the intended object again.',
  },
  {
    id: 'MG702',
    slug: 'submodule_not_scanned',
    title: 'Submodule changed but its files are not checked out',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    description:
      "The change adds a submodule or moves it to another commit, and the workspace does not hold that commit's files (actions/checkout leaves submodules out by default), or holds another commit. Whoever clones with submodules gets files modelgate did not see, so the path cannot be called clean.",
    remediation:
      'Check out submodules in the workflow (actions/checkout with `submodules: recursive`) so that their files are scanned like any changed folder, or exclude the path in the policy (`exclude`) if it holds no models.',
  },
  {
    id: 'MG703',
    slug: 'head_not_checked_out',
    title: 'pull_request_target run without the pull request head checked out',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    description:
      'On `pull_request_target` the default checkout is the base branch, not the pull request: the workspace does not hold the files under review, so a green run would say nothing about them. The scan of changed files was not run.',
    remediation:
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression the user copies
      'Check out the pull request head (actions/checkout with `ref: ${{ github.event.pull_request.head.sha }}` and `persist-credentials: false`) and never run its code (no install, build or scripts); or set `scope: all` to scan the checkout as it is on purpose.',
  },
]);
