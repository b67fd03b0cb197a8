import { defineRules } from '../core/rules/rule.js';

/** Rules of the CI integration (the GitHub Action): content the action could not get hold of. */
export const actionRules = defineRules([
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
]);
