import { defineRules } from '../../rules/rule.js';

/** HDF5 rules (MG540-MG549). */
export const hdf5Rules = defineRules([
  {
    id: 'MG540',
    slug: 'hdf5_external_reference',
    title: 'HDF5 file reaches into other files',
    severity: 'high',
    kind: 'threat',
    cwe: 73,
    description:
      'The HDF5 file holds an external link, a dataset with external raw storage, or a virtual dataset. Opening the object makes the HDF5 library open another file on the host (any path the attacker chose), so loading weights reads files outside the model (Keras fixed this class of issue in 2026, #22057/#22899/#22900). modelgate never follows such references.',
    remediation:
      'Keep every dataset inside the file. Re-save the weights with h5py or Keras from a trusted copy.',
  },
  {
    id: 'MG541',
    slug: 'hdf5_unreadable',
    title: 'HDF5 structure could not be fully read',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    description:
      'Part of the HDF5 structure (superblock, object headers, attributes, group tree) is malformed or uses a feature the bounded reader does not implement, so the model config or the check for links to other files is incomplete.',
    remediation: 'Re-save the file with h5py/Keras defaults, or review it by hand.',
  },
]);
