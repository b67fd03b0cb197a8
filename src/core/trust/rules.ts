import { defineRules } from '../rules/rule.js';

// Trust rules: signatures, pins, waivers, publishers, SBOM, attestations (MG600-MG699).
// Signature findings carry the catalogue score under `signatures: require` and a low score under `warn`
// (see trust/phase.ts), so the same rule blocks or warns depending on the policy.

const SIGN_HELP =
  'Sign the model folder with the OpenSSF model_signing tool (`model_signing sign key|sigstore|certificate DIR`), commit model.sig at the folder root, and list the signer under `trust` in the policy file (see the README, Trust).';

export const trustRules = defineRules([
  {
    id: 'MG600',
    slug: 'unsigned_model',
    title: 'Model folder has no signature',
    severity: 'high',
    score: 100,
    kind: 'threat',
    waivable: true,
    cwe: 345,
    description:
      'The policy requires model folders to be signed, and this model file sits in a folder without a model.sig (OpenSSF model signing). Nothing proves who produced these bytes or that they are the ones that were approved.',
    remediation: SIGN_HELP,
  },
  {
    id: 'MG601',
    slug: 'signature_invalid',
    title: 'Model signature does not verify',
    severity: 'critical',
    kind: 'threat',
    waivable: false,
    cwe: 347,
    description:
      'model.sig is present but is not a valid signature: the bundle or its in-toto statement is malformed or of an unsupported kind, the cryptographic signature, certificate chain, transparency-log entry or timestamp does not verify, or the signed root digest disagrees with the signed file list. The folder may have been tampered with.',
    remediation:
      'Find out who changed the folder or its signature. Re-sign the folder from a trusted build if the change is legitimate.',
  },
  {
    id: 'MG602',
    slug: 'signer_untrusted',
    title: 'Model signed by a signer the policy does not trust',
    severity: 'high',
    score: 100,
    kind: 'threat',
    waivable: false,
    cwe: 347,
    description:
      'The signature is cryptographically valid, but the key, certificate chain or Sigstore identity/issuer that made it is not listed under `trust` in the policy (or not for this path). Anyone can produce a valid signature with their own key; only a trusted signer means anything.',
    remediation:
      'If the signer is legitimate, add its public key, CA certificate or exact identity and issuer to `trust` (or pass --trusted-key / --trusted-identity with --trusted-issuer). Otherwise reject the model.',
  },
  {
    id: 'MG603',
    slug: 'signed_file_modified',
    title: 'File differs from the signed digest',
    severity: 'critical',
    kind: 'threat',
    waivable: false,
    cwe: 354,
    description:
      'This file is listed in the folder signature, but its content hash differs from the signed digest: it was changed after signing.',
    remediation: 'Restore the signed file, or re-sign the folder after reviewing the change.',
  },
  {
    id: 'MG604',
    slug: 'unsigned_file_in_signed_folder',
    title: 'File not covered by the folder signature',
    severity: 'high',
    score: 100,
    kind: 'threat',
    cwe: 345,
    description:
      'The folder is signed, but this file is not among the signed resources (and not in the signed ignore_paths): it was added after signing. Loaders read every file of a model folder (configs, code, extra weights), so an unsigned addition defeats the signature. Attestations and detached signatures made after signing (*.sigstore.json, *.intoto.json[l], *.attestation.json[l], *.sig) are not counted: no loader reads them, and they are still scanned by content.',
    remediation: 'Remove the file, or re-sign the folder so that the signature covers it.',
  },
  {
    id: 'MG605',
    slug: 'signed_file_missing',
    title: 'Signed file is missing from the folder',
    severity: 'high',
    score: 100,
    kind: 'threat',
    cwe: 345,
    description:
      'The signature lists files that the folder no longer holds (or holds as something other than a regular file): the model was truncated or partly replaced after signing.',
    remediation: 'Restore the missing files, or re-sign the folder.',
  },
  {
    id: 'MG606',
    slug: 'symlink_in_signed_folder',
    title: 'Symbolic link inside a signed model folder',
    severity: 'high',
    score: 100,
    kind: 'threat',
    waivable: false,
    cwe: 59,
    description:
      'The model folder holds a symbolic link. Model signing hashes regular files only and refuses links unless the signature allows them; a link can point the loader at unsigned content anywhere on disk.',
    remediation: 'Replace the link with the file it points to and re-sign, or remove it.',
  },
  {
    id: 'MG607',
    slug: 'signature_ignores_model_content',
    title: 'Signature ignores files that the loader reads',
    severity: 'medium',
    kind: 'anomaly',
    cwe: 345,
    description:
      'The signed ignore_paths exclude files that are present and matter when the model is loaded (weights, config.json, tokenizer or chat-template files, Python code, index files), or the signature allows symbolic links. Those files are not protected by the signature.',
    remediation:
      'Sign again without ignoring model content (`model_signing sign ... --ignore-paths` only for files that do not affect loading), and without --allow_symlinks.',
  },
  {
    id: 'MG608',
    slug: 'signature_legacy_format',
    title: 'Legacy model-signature format',
    severity: 'low',
    kind: 'anomaly',
    description:
      'The signature uses the v0.x predicate (`https://model_signing/Digests/v0.1`) without serialization parameters or a root digest. It was verified file by file, but the format is deprecated.',
    remediation: 'Re-sign the folder with model_signing 1.x.',
  },
  {
    id: 'MG610',
    slug: 'pin_mismatch',
    title: 'Pinned model file does not match its pin',
    severity: 'critical',
    kind: 'threat',
    waivable: false,
    cwe: 354,
    description:
      'The policy (or models.lock) pins this path to an exact SHA-256 (and size), and the file no longer matches: the approved artifact was replaced.',
    remediation:
      'If the new file was reviewed and approved, update its pin in the same change (the summary then reports the pin change); otherwise restore the approved file.',
  },
  {
    id: 'MG611',
    slug: 'pin_changed',
    title: 'Pin updated in this change',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    description:
      'The pin of this model file was changed in the same change as the file (from one approved digest to another), so the file is accepted under its new pin. Reviewers should confirm the new artifact was approved.',
    remediation: 'Review the pin change like any other change to the policy.',
  },
  {
    id: 'MG620',
    slug: 'waiver_expired',
    title: 'A waiver for this file has expired',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    description:
      'A waiver in the policy file matches a finding of this file but its expiry date has passed, so it no longer applies and the finding counts again.',
    remediation: 'Review the finding again; renew the waiver with a new expiry date, or fix the file.',
  },
  {
    id: 'MG621',
    slug: 'waiver_refused',
    title: 'A waiver was refused by the active profile',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    description:
      'A waiver matches a finding whose severity is above what the active profile lets waivers cover (`maxWaivedSeverity`; the built-in strict profile refuses waivers of high and critical findings), so the finding counts.',
    remediation: 'Fix the file, or apply the waiver only on branches whose profile allows it.',
  },
  {
    id: 'MG630',
    slug: 'publisher_untrusted',
    title: 'Model declares a publisher outside the allowlist',
    severity: 'high',
    kind: 'threat',
    cwe: 494,
    description:
      'The model declares where it comes from (a Hugging Face repository in config.json `_name_or_path`, a model card `base_model`, or the signing identity) and that source is not in the policy `publishers` allowlist.',
    remediation:
      'Use a model from an allowed publisher, or add the publisher to `publishers` after reviewing it.',
  },
  {
    id: 'MG640',
    slug: 'sbom_license_denied',
    title: 'SBOM declares a licence outside the allowlist',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'The model folder carries an AI-BOM (CycloneDX ML-BOM or SPDX 3 AI package) whose declared licence is not in the policy `sbom.licenses` allowlist.',
    remediation: 'Check the licence terms; add the licence to the allowlist, or do not ship the model.',
  },
  {
    id: 'MG641',
    slug: 'sbom_dataset_denied',
    title: 'SBOM declares a denied training or test dataset',
    severity: 'high',
    kind: 'anomaly',
    description:
      'The AI-BOM names a dataset that matches a `sbom.denyDatasets` rule, or one declared as holding sensitive personal information while `sbom.denySensitiveData` is set.',
    remediation: 'Review the data provenance of the model with its owners.',
  },
  {
    id: 'MG642',
    slug: 'sbom_invalid',
    title: 'SBOM is missing or unreadable',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'The policy requires an AI-BOM for model folders and none was found, or the file that looks like one could not be parsed, or a hash it declares for a model file disagrees with the file.',
    remediation:
      'Add a CycloneDX ML-BOM (bom.json / *.cdx.json) or SPDX 3 document (*.spdx.json) to the model folder.',
  },
  {
    id: 'MG650',
    slug: 'attestation_invalid',
    title: 'Build attestation does not verify',
    severity: 'high',
    kind: 'threat',
    cwe: 347,
    description:
      "A GitHub artifact attestation (Sigstore bundle with SLSA provenance) sits next to this file but does not verify against the trusted root, does not name this file's digest, or was made by an identity the policy does not trust.",
    remediation:
      'Download the attestation again (`gh attestation download`), or rebuild the model in the workflow that attests it.',
  },
]);
