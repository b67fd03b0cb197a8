import { defineRules } from '../rules/rule.js';

/** Hugging Face Hub references and remote scans (MG950-MG969). */
export const remoteRules = defineRules([
  {
    id: 'MG950',
    slug: 'unpinned_model_reference',
    title: 'Model reference not pinned to a commit',
    severity: 'medium',
    kind: 'threat',
    cwe: 494,
    description:
      'The model is named by a branch or tag (or no revision at all, which means `main`), not by a 40-hex commit sha. What was reviewed and scanned is what the branch pointed at today; the repository owner (or anyone who takes the account over) can move it to other files after the review, and the code loads them without another check.',
    remediation:
      'Pin the reference to the commit the scan resolved (`revision="<40-hex sha>"`, `hf://OWNER/NAME@<sha>`), and record it in models.lock. To make unpinned references block, raise this rule\'s score in the policy (`rules: {MG950: 100}`) or use the `strict` profile.',
  },
  {
    id: 'MG951',
    slug: 'remote_unavailable',
    title: 'Hub repository or file could not be read',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    cwe: 636,
    description:
      'The Hub refused or failed to serve what the scan needed: 401/403 (a gated or private repository without a token, or a token without access), 404 (repository, revision or file not found), a 5xx, a timeout or a connection error. What was not read was not judged, so the model cannot be called clean.',
    remediation:
      'For gated or private repositories set HF_TOKEN to a read token with access (in the action: set the HF_TOKEN environment variable from a secret); check the repository id and revision; scan again when the Hub answers.',
  },
  {
    id: 'MG952',
    slug: 'remote_integrity',
    title: 'Hub answered with other bytes than it described',
    severity: 'high',
    score: 0,
    kind: 'incomplete',
    cwe: 345,
    description:
      'A download was truncated, a Range request was answered with other bytes (status 200 instead of 206, another Content-Range), the bytes did not match the sha256 (LFS) or git blob id the Hub lists for the commit, or the Hub described another commit or size than its file list. The scanned bytes may not be what a loader downloads, so the file is not judged.',
    remediation:
      'Scan again; if it persists, the Hub, a proxy (HF_ENDPOINT) or the CDN serves altered content: do not use the model until it is explained.',
  },
  {
    id: 'MG953',
    slug: 'reference_not_resolved',
    title: 'Model reference not resolvable statically',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    description:
      'Code loads a model whose name or revision is computed at run time (a variable, an f-string, a call), so the scan cannot tell which repository or commit it loads. The reference was not scanned.',
    remediation:
      'Name the model with a literal `org/name` and a literal commit `revision`, or scan the repository it resolves to with `modelgate scan hf://OWNER/NAME@SHA`.',
  },
  {
    id: 'MG954',
    slug: 'reference_not_supported',
    title: 'Model reference of a kind not scanned yet',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    description:
      'A model is named through a source modelgate does not fetch yet (a DVC-tracked file, an Ollama registry model), or code downloads a Hub dataset or Space repository (`repo_type="dataset"`/`"space"`), which is not a model repository. It was not scanned; only Hugging Face Hub model repositories are.',
    remediation:
      'Scan the artifact where it is stored, or commit it (or its lockfile entry) so that it is scanned.',
  },
]);
