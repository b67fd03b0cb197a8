#!/usr/bin/python3
"""Derives modelgate's exact-name pickle allowlist profiles from pickles made by the real libraries (Debian's
python3-pandas, -numpy, -scipy, -torch, -torchvision, -omegaconf, -requests). Each profile is the set of
globals that pickles of that library's ordinary objects import; nothing is guessed from names.

    /usr/bin/python3 scripts/pickle-profiles/derive.py > src/core/formats/pickle/allowlist-derived.ts

A dev tool: modelgate never runs Python. The pickles are made and read back here only to record which
globals they import (an Unpickler whose find_class records the name; the objects are our own).
"""
import collections, datetime, io, pathlib, pickle, re, sys, typing, warnings, zipfile

warnings.filterwarnings('ignore')
profiles = collections.OrderedDict()


class Recorder(pickle.Unpickler):
    def __init__(self, f, out):
        super().__init__(f)
        self.out = out

    def find_class(self, module, name):
        self.out.add(f'{module}.{name}')
        return super().find_class(module, name)

    def persistent_load(self, pid):
        return None


def globals_of(data, out):
    if data[:2] == b'PK':
        z = zipfile.ZipFile(io.BytesIO(data))
        data = z.read(next(n for n in z.namelist() if n.endswith('data.pkl')))
    try:
        Recorder(io.BytesIO(data), out).load()
    except Exception:
        # Loading may fail on the dummy persistent objects; the imports before that were recorded. Scan the
        # opcodes too so nothing after the failure is missed.
        import pickletools
        memo, strs = {}, []
        for op, arg, _ in pickletools.genops(data):
            if op.name in ('GLOBAL', 'INST'):
                out.add(arg.replace(' ', '.'))
            elif op.name in ('SHORT_BINUNICODE', 'BINUNICODE', 'UNICODE', 'BINUNICODE8'):
                strs.append(arg)
            elif op.name == 'STACK_GLOBAL' and len(strs) >= 2:
                out.add(f'{strs[-2]}.{strs[-1]}')


def profile(name, objs, torch_save=False):
    out = profiles.setdefault(name, set())
    for o in objs:
        try:
            if torch_save:
                import torch
                b = io.BytesIO(); torch.save(o, b); data = b.getvalue()
            else:
                data = pickle.dumps(o, protocol=4)
        except Exception as e:
            print(f'# {name}: cannot pickle {type(o).__name__}: {e}', file=sys.stderr)
            continue
        globals_of(data, out)
        if not torch_save:
            globals_of(pickle.dumps(o, protocol=2), out)


import numpy as np
ufuncs = [getattr(np, n) for n in dir(np) if isinstance(getattr(np, n), np.ufunc)]
profile('numpy-ufunc', ufuncs)
profile('numpy-records', [np.rec.array([(1, 2.0)], dtype=[('a', 'i4'), ('b', 'f8')]), np.record, np.recarray])

import pandas as pd
pd_objs = [
    pd.DataFrame({'a': [1, 2], 'b': ['x', 'y'], 'c': [1.5, None]}), pd.Series([1, 2]),
    pd.MultiIndex.from_product([['a'], [1, 2]]), pd.Index(['a']), pd.Index([1.5]), pd.Index([1]),
    pd.RangeIndex(3), pd.CategoricalIndex(['a']), pd.DatetimeIndex(['2024-01-01']), pd.TimedeltaIndex(['1D']),
    pd.PeriodIndex(['2024-01'], freq='M'), pd.interval_range(0, 2), pd.Categorical(['a', 'b']),
    pd.Timestamp('2024-01-01'), pd.Timestamp('2024-01-01', tz='UTC'), pd.Timestamp('2024-01-01', tz='Europe/Paris'),
    pd.Timedelta('1D'), pd.Period('2024-01', 'M'), pd.Interval(0, 1), pd.NaT, pd.NA,
    pd.arrays.SparseArray([0, 1]), pd.array([1, None], dtype='Int64'), pd.array([1.5, None], dtype='Float64'),
    pd.array(['a', None], dtype='string'), pd.array([True, None], dtype='boolean'),
    pd.array([1], dtype='UInt8'), pd.date_range('2024', periods=2, tz='UTC'),
    pd.date_range('2024', periods=2, tz=datetime.timezone.utc), pd.period_range('2024', periods=2, freq='Q'),
    pd.Series(pd.period_range('2024', periods=2, freq='D')), pd.DataFrame({'t': pd.date_range('2024', periods=2, tz='Asia/Tokyo')}),
    pd.CategoricalDtype(['a']), pd.DatetimeTZDtype(tz='UTC'), pd.PeriodDtype('M'), pd.IntervalDtype('int64'),
    pd.SparseDtype('float'), pd.StringDtype(), pd.BooleanDtype(), pd.Int64Dtype(),
]
for off in [o for o in dir(pd.offsets) if not o.startswith('_')]:
    try:
        pd_objs.append(getattr(pd.offsets, off)())
    except Exception:
        pass
try:
    import dateutil.tz
    pd_objs.append(pd.Timestamp('2024-01-01', tz=dateutil.tz.gettz('Europe/Paris')))
except Exception:
    pass
profile('pandas', pd_objs)
# Old pickles name pandas classes by the paths of earlier releases; pandas.read_pickle maps them
# (pandas/compat/pickle_compat.py) and some resolve through re-exports (pandas.core.internals).
from pandas.compat import pickle_compat
profiles['pandas'].update(f'{m}.{n}' for (m, n), (tm, tn) in pickle_compat._class_locations_map.items()
                          if not tn.startswith('_Load'))
import pandas.core.internals as pci
profiles['pandas'].update(f'pandas.core.internals.{n}' for n in ('BlockManager', 'SingleBlockManager')
                          if hasattr(pci, n))

profile('stdlib', [
    pathlib.PosixPath('/a'), pathlib.PurePosixPath('a'), pathlib.PureWindowsPath('a'), typing.Any, typing.Optional,
    typing.Union, typing.List, typing.Dict, typing.Tuple, typing.Callable, re.compile('a+'), re.compile(b'a'),
    datetime.timezone(datetime.timedelta(hours=1)), datetime.timezone.utc, datetime.date.today(),
])

from omegaconf import OmegaConf
profile('omegaconf', [OmegaConf.create({'a': 1, 'b': [1, 'x', 2.5, True, None], 'c': {'d': '${a}'}, 'e': b'x'.decode()}),
                      OmegaConf.create([1, {'x': 1}]), OmegaConf.structured({'x': 1})])

import scipy.stats
dists = []
for n in dir(scipy.stats):
    d = getattr(scipy.stats, n)
    if isinstance(d, (scipy.stats.rv_continuous, scipy.stats.rv_discrete)):
        dists.append(d)
profile('scipy-stats', dists + [scipy.stats.norm(0, 1), scipy.stats.poisson(3)])

import torch, torch.optim, torch.optim.lr_scheduler
p = [torch.nn.Parameter(torch.zeros(2))]
opts = []
for n in dir(torch.optim):
    c = getattr(torch.optim, n)
    if isinstance(c, type) and issubclass(c, torch.optim.Optimizer) and c is not torch.optim.Optimizer:
        try:
            opts.append(c([torch.nn.Parameter(torch.zeros(2))], lr=0.1))
        except Exception:
            try:
                opts.append(c([torch.nn.Parameter(torch.zeros(2))]))
            except Exception as e:
                print(f'# optimizer {n}: {e}', file=sys.stderr)
scheds = []
L = torch.optim.lr_scheduler
for make in [lambda o: L.StepLR(o, 1), lambda o: L.MultiStepLR(o, [1]), lambda o: L.ConstantLR(o),
             lambda o: L.LinearLR(o), lambda o: L.ExponentialLR(o, 0.9), lambda o: L.CosineAnnealingLR(o, 5),
             lambda o: L.ReduceLROnPlateau(o), lambda o: L.CyclicLR(o, 0.01, 0.1, cycle_momentum=False),
             lambda o: L.OneCycleLR(o, 0.1, total_steps=10), lambda o: L.CosineAnnealingWarmRestarts(o, 2),
             lambda o: L.PolynomialLR(o) if hasattr(L, 'PolynomialLR') else None,
             lambda o: L.SequentialLR(o, [L.ConstantLR(o), L.StepLR(o, 1)], [1]),
             lambda o: L.ChainedScheduler([L.ConstantLR(o), L.StepLR(o, 1)])]:
    o = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1, momentum=0.9)
    s = make(o)
    if s is not None:
        # Both what trainers save (state_dict) and whole scheduler objects (torch.save(scheduler)).
        scheds.append(s.state_dict())
        scheds.append(s)
profile('torch-optim', [o.state_dict() for o in opts] + opts + scheds, torch_save=True)

import torchvision
models = []
for n in sorted(torchvision.models.list_models()) if hasattr(torchvision.models, 'list_models') else []:
    try:
        try:
            m = torchvision.models.get_model(n, weights=None, weights_backbone=None)
        except TypeError:
            m = torchvision.models.get_model(n, weights=None)
        models.append(m.to('meta'))
    except Exception as e:
        print(f'# torchvision {n}: {e}', file=sys.stderr)
profile('torchvision', models, torch_save=True)

import requests
from requests.structures import CaseInsensitiveDict
r = requests.models.Response(); r.headers = CaseInsensitiveDict({'a': 'b'}); r._content = b''
r.cookies.set('k', 'v')
profile('requests', [r, requests.models.PreparedRequest(), CaseInsensitiveDict()])

# Each profile lists only what is new to it (earlier profiles and the always-allowed basics go first).
# Names decided elsewhere: the built-in basics, and functools.partial, which the effect model treats as the
# attribute-family wrapper it is (safe only around an allowed callable that is never invoked).
BASE = {'builtins.getattr', 'copyreg._reconstructor', 'builtins.object', 'collections.OrderedDict', 'functools.partial',
        '_codecs.encode', 'collections.Counter', 'collections.defaultdict'}
seen = set(BASE)
print('// Generated by scripts/pickle-profiles/derive.py from pickles made by the real libraries (Debian\'s packages).')
print('// Do not edit: re-run the script. Each list is what pickles of that library\'s ordinary objects import.')
print()
print('export const DERIVED_PROFILES: Readonly<Record<string, readonly string[]>> = {')
for name, names in profiles.items():
    # numpy/torch/builtin basics appear in every torch or pandas pickle; keep them in their own profiles.
    own = sorted(n for n in names if n not in seen and not n.startswith(('__builtin__.', 'builtins.', 'torch._utils.', 'numpy.core.multiarray.', 'torch.FloatStorage', 'torch.LongStorage', 'torch.float32', 'torch.int64', 'numpy.dtype', 'numpy.ndarray', 'torch.nn.modules.')))
    seen.update(own)
    print(f"  '{name}': [")
    for n in own:
        print(f"    '{n}',")
    print('  ],')
print('};')
