import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeTemplate } from '../../src/core/formats/template/analyze.js';
import { scanPaths } from '../../src/core/scan.js';
import { FIXTURES, only, ruleIds } from '../helpers.js';

const DIR = join(FIXTURES, 'template');
const RANK = { none: 0, low: 1, medium: 2, high: 3, critical: 4 } as const;

function worst(src: string): { sev: keyof typeof RANK; rules: string[]; symbols: string[] } {
  const r = analyzeTemplate(src);
  const sevOf = (id: string, s?: keyof typeof RANK): keyof typeof RANK =>
    s ??
    (
      {
        MG440: 'critical',
        MG441: 'critical',
        MG442: 'high',
        MG443: 'high',
        MG444: 'medium',
        MG445: 'medium',
        MG900: 'high',
        MG901: 'high',
      } as const
    )[id as 'MG440'];
  let sev: keyof typeof RANK = 'none';
  for (const f of r.findings) {
    const s = sevOf(f.ruleId, f.severity as keyof typeof RANK | undefined);
    if (RANK[s] > RANK[sev]) sev = s;
  }
  return {
    sev,
    rules: [...new Set(r.findings.map((f) => f.ruleId))].sort(),
    symbols: r.findings.map((f) => f.symbol),
  };
}

test('real chat templates of the common model families, tool calling included, have no finding', async () => {
  // real/: llama.cpp's models/templates (Llama 3.1-3.3, Mistral Nemo/Small/Devstral, Qwen2.5/QwQ/Qwen3, Gemma 2/4,
  // Phi-3.5, DeepSeek R1/V3.1/V3.2, gpt-oss, Command R+ tool use, Hermes, Functionary...), plus Gemma 3 and
  // Mistral 7B v0.3 tool calling from their tokenizer_config.json; ordinary/: constructs that look odd but are data.
  const dirs = [DIR, join(DIR, 'real'), join(DIR, 'ordinary')];
  let n = 0;
  for (const dir of dirs) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.jinja'))) {
      const r = only(await scanPaths([join(dir, f)]));
      assert.equal(r.format, 'jinja-template', f);
      assert.deepEqual(r.findings, [], f);
      n++;
    }
  }
  assert.ok(n >= 70, `${n} templates`);
});

test('templates that exhaust CPU when rendered (nested and folded loop bounds) block', async () => {
  const files = readdirSync(join(DIR, 'dos')).filter((f) => f.endsWith('.jinja'));
  assert.ok(files.length >= 3);
  for (const f of files) {
    const r = only(await scanPaths([join(DIR, 'dos', f)]));
    assert.ok(ruleIds(r).includes('MG901'), `${f}: ${JSON.stringify(r.findings)}`);
    assert.equal(r.verdict, 'block', f);
  }
  // Ordinary loops over messages and small ranges stay clean.
  assert.deepEqual(
    worst(
      '{% for m in messages %}{% for i in range(3) %}{% for j in range(100) %}{% endfor %}{% endfor %}{% endfor %}',
    ).rules,
    [],
  );
});

test('names hidden in the file metadata (special tokens, JSON escapes) are folded: critical', async () => {
  const files = readdirSync(join(DIR, 'metadata')).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 5);
  for (const f of files) {
    const r = only(await scanPaths([join(DIR, 'metadata', f)]));
    assert.equal(r.format, 'hf-tokenizer-config', f);
    assert.equal(r.severity, 'critical', `${f}: ${JSON.stringify(r.findings)}`);
    assert.equal(r.verdict, 'block', f);
  }
  // The same template with harmless token text folds to a harmless name; without the metadata the name is
  // unknown, and a computed lookup on a string is suspicious (high).
  const t = "{%- set p = sep_token.split(' ') %}{{ ''[p[1]] }}";
  const vars = new Map([['sep_token', '<sep> a b c']]);
  assert.deepEqual(analyzeTemplate(t, 'template', { vars }).findings, []);
  assert.deepEqual(
    analyzeTemplate(t).findings.map((f) => f.ruleId),
    ['MG900'],
  );
  const evil = new Map([['sep_token', '<sep> __class__']]);
  assert.ok(
    analyzeTemplate(t, 'template', { vars: evil }).findings.some(
      (f) => f.ruleId === 'MG441' && f.symbol === '__class__',
    ),
  );
});

test('a template analysed again (recent analyses are remembered) gives the findings of its own variables', () => {
  const t = "{%- set p = sep_token.split(' ') %}{{ ''[p[1]] }}";
  const benign = new Map([['sep_token', '<sep> a b c']]);
  const evil = new Map([['sep_token', '<sep> __class__']]);
  for (let round = 0; round < 3; round++) {
    const bad = analyzeTemplate(t, 'template', { vars: evil });
    assert.ok(bad.findings.some((f) => f.ruleId === 'MG441' && f.symbol === '__class__'));
    bad.findings.length = 0; // the caller's own array: what is remembered stays whole
    assert.deepEqual(analyzeTemplate(t, 'template', { vars: benign }).findings, []);
    assert.deepEqual(
      analyzeTemplate(t).findings.map((f) => f.ruleId),
      ['MG900'],
    );
  }
});

test('computed lookups: on data they are ordinary, on strings/globals suspicious, chained critical', () => {
  for (const src of [
    '{% for m in messages %}{% for k in m %}{{ m[k] }}{% endfor %}{% endfor %}',
    '{% for t in tools %}{% for n, p in t.function.parameters.properties.items() %}{{ t.function.parameters.properties[n] }}{% endfor %}{% endfor %}',
    '{% set d = {"a": 1} %}{% for m in messages %}{{ d[m.role] }}{% endfor %}',
    '{% set ns = namespace(x=1) %}{{ messages[ns.x] }}',
    '{% for m in messages %}{{ m.content[loop.index0] }}{% endfor %}',
  ])
    assert.deepEqual(worst(src).rules, [], src);
  assert.equal(worst('{{ loop[name] if loop is defined }}').sev, 'high');
  assert.equal(worst("{{ ''[a] }}").sev, 'high');
  for (const src of [
    "{{ ''[a][b] }}",
    '{% for m in messages %}{{ loop[a][b] }}{% endfor %}',
    "{{ ''[a]() }}",
  ])
    assert.equal(worst(src).sev, 'critical', src);
});

test('every malicious template fixture is critical', async () => {
  const files = readdirSync(join(DIR, 'malicious')).filter((f) => f.endsWith('.jinja'));
  assert.ok(files.length >= 15);
  for (const f of files) {
    const r = only(await scanPaths([join(DIR, 'malicious', f)]));
    assert.equal(r.severity, 'critical', `${f}: ${JSON.stringify(r.findings)}`);
    assert.equal(r.verdict, 'block', f);
  }
});

test('obfuscated names are folded to what they spell', () => {
  const cases: Array<[string, string]> = [
    ["{{ ''|attr('__cl' ~ 'ass__') }}", '__class__'],
    ["{{ ''|attr('_'*2 ~ 'class' ~ '_'*2) }}", '__class__'],
    ["{{ ''|attr('%c%c%s%c%c' % (95, 95, 'class', 95, 95)) }}", '__class__'],
    ["{{ ''|attr(['__', 'class', '__']|join) }}", '__class__'],
    ["{{ ''|attr(''.join(['__', 'class', '__'])) }}", '__class__'],
    ["{{ ''|attr('__ssalc__'[::-1]) }}", '__class__'],
    ["{{ ''|attr('{}class{}'.format('__', '__')) }}", '__class__'],
    ["{{ ''|attr('..class..'|replace('.', '_')) }}", '__class__'],
    ["{{ ''|attr('__CLASS__'|lower) }}", '__class__'],
    ["{% set a = '__' %}{% set b = a ~ 'globals' ~ a %}{{ lipsum[b] }}", '__globals__'],
    ['{% set x %}__class__{% endset %}{{ messages[x] }}', '__class__'],
    ["{% macro u() %}__{% endmacro %}{{ messages[u() ~ 'class' ~ u()] }}", '__class__'],
  ];
  for (const [src, name] of cases) {
    const w = worst(src);
    assert.equal(w.sev, 'critical', `${src}: ${JSON.stringify(w)}`);
    assert.ok(w.symbols.includes(name), `${src} should name ${name}: ${JSON.stringify(w.symbols)}`);
  }
});

test('direct gadget chains and escapes are critical', () => {
  for (const src of [
    '{{ messages.__class__ }}',
    "{{ messages['__class__'] }}",
    "{{ ''['\\x5f\\x5fclass\\x5f\\x5f'] }}",
    "{{ ''['\\u005f\\u005fclass\\u005f\\u005f'] }}",
    "{{ ''['\\137\\137class\\137\\137'] }}",
    "{{ ''['\\N{LOW LINE}\\N{LOW LINE}class__'] }}",
    '{{ lipsum.__globals__.os.popen("id").read() }}',
    '{{ namespace.__init__.__globals__ }}',
    '{{ range.__self__ }}',
    '{{ self._TemplateReference__context }}',
    '{{ joiner.__init__ }}',
    '{{ request.application }}',
    '{{ x.mro() }}',
    "{{ __import__('os').system('id') }}",
    "{{ eval('1') }}",
    "{{ messages|map(attribute='__class__')|list }}",
    "{{ messages|selectattr('__class__')|list }}",
    '{{ messages|attr(name) }}',
    "{{ '{0.__class__}'.format(messages) }}",
    '{{ config.items() }}',
    '{% for c in ().__class__.__base__.__subclasses__() %}{% endfor %}',
  ]) {
    const w = worst(src);
    assert.equal(w.sev, 'critical', `${src}: ${JSON.stringify(w)}`);
  }
});

test('normal constructs stay clean', () => {
  for (const src of [
    "{{ messages|selectattr('role', 'equalto', 'user')|list|length }}",
    "{{ tools|map(attribute='function')|map(attribute='name')|join(', ') }}",
    '{% set ns = namespace(found=false) %}{% for m in messages %}{% if m.role == "system" %}{% set ns.found = true %}{% endif %}{% endfor %}',
    "{{ loop.cycle('a', 'b') if loop is defined }}",
    "{{ strftime_now('%d %b %Y') }}",
    '{% for i in range(3) %}{{ i }}{% endfor %}',
    "{{ message['content'].split('</think>')[-1].lstrip() }}",
    '{{ messages[loop.index0 + 1].role if messages|length > 1 }}',
    '{{ (message.content|string).startswith("<tool") }}',
    '{{ message.tool_calls[0].function.arguments|tojson(indent=2) }}',
    '{% macro render(t) %}{{ t.name }}{% endmacro %}{% for t in tools %}{{ render(t) }}{% endfor %}',
    "{{ raise_exception('Only user and assistant roles are supported') }}",
    '{{ dict(a=1).items()|list }}',
    'Plain text with __double__ underscores outside code is just text.',
  ]) {
    const w = worst(src);
    assert.ok(RANK[w.sev] <= RANK.low, `${src}: ${JSON.stringify(w)}`);
  }
});

test('unknown methods, filters and functions are named (medium at most)', () => {
  const m = worst('{{ message.content.encode() }}');
  assert.equal(m.sev, 'medium');
  assert.ok(m.symbols.includes('.encode()'));
  const f = worst('{{ message.content|customfilter }}');
  assert.ok(f.symbols.includes('|customfilter'));
});

test('a template that does not parse is suspicious (medium), and a payload in it is still critical', () => {
  const bad = worst('{% if x is foo(1, 2) %}{{ hello }}{% endif %}');
  assert.equal(bad.sev, 'medium');
  assert.deepEqual(bad.rules, ['MG445']);
  const evil = worst("{% if x is foo(1, 2) %}{% endif %}{{ cycler.__init__.__globals__.os.popen('id') }}");
  assert.equal(evil.sev, 'critical');
  // Unparsed, a gadget global cannot be followed: naming it at all is high.
  assert.equal(worst('{% if x is foo(1, 2) %}{% endif %}{{ lipsum[a][b] }}').sev, 'high');
});

test('Jinja2 syntax the parser does not read is rewritten and analysed structurally (low when benign)', () => {
  for (const src of [
    '{% raw %}{{ not code }}{% endraw %}{% for m in messages %}{{ m.content }}{% endfor %}',
    '{% for m in messages recursive %}{{ m.content }}{% if m.children %}{{ loop(m.children) }}{% endif %}{% endfor %}',
    '{% with greeting = "hi" %}{{ greeting }}{% endwith %}',
    '{% if messages|length is divisibleby(2) %}even{% endif %}',
    "{{ '%s' % (messages|length,) }}",
  ]) {
    const w = worst(src);
    assert.equal(w.sev, 'low', `${src}: ${JSON.stringify(w)}`);
    assert.ok(w.symbols.includes('parse-rewritten'), src);
  }
  // The same constructs in front of a computed lookup chain no longer hide it from the walk.
  for (const src of [
    '{% raw %}{% endraw %}{{ lipsum[bos_token][eos_token] }}',
    '{% with a = lipsum %}{{ a[bos_token][eos_token] }}{% endwith %}',
    '{% do messages.append(1) %}{{ joiner[bos_token][eos_token] }}',
    '{% if messages is sameas none %}{% endif %}{{ joiner[bos_token][eos_token] }}',
    "{% set s = '%s' % (cycler,) %}{{ cycler[bos_token][eos_token] }}",
  ])
    assert.equal(worst(src).sev, 'critical', src);
});

test('keys the template builds from its own text must resolve, even on message data', () => {
  // Jinja's x[key] falls back to getattr on lists and dicts too: a key that does not fold is not data.
  for (const src of [
    "{% set n = {'b':'l','a':'c'}|dictsort|map('last')|join %}{{ messages[n] }}",
    '{% set p = [] %}{% set _ = p.append(x) %}{{ messages[p|join] }}',
    '{% macro m() %}{{ messages[caller()|trim] }}{% endmacro %}{% call m() %}x{% endcall %}',
    "{% set D = {'u': '_'} %}{{ messages[D.u ~ D.u] }}",
    '{{ messages[bos_token] }}',
    "{% set z = messages[0].role[:0] %}{{ messages[('sslac' ~ z)|list|sort|join] }}",
    "{{ messages[m.role|replace('', '_')] }}",
    "{{ messages[m.role|default('_')] }}",
  ]) {
    const w = worst(src);
    assert.ok(RANK[w.sev] >= RANK.high, `${src}: ${JSON.stringify(w)}`);
  }
  // A further step on what such a lookup reached is critical.
  assert.equal(worst('{{ messages[bos_token][eos_token] }}').sev, 'critical');
  // Keys read out of the data, indexes, and names that fold stay clean, through macros and call sites too.
  for (const src of [
    '{% macro f(d) %}{% for k in d %}{{ d[k] }}{% endfor %}{% endmacro %}{{ f(tools[0]) }}{{ f({"type": x}) }}',
    '{% for name, label in [("a", "A"), ("b", "B")] %}{{ param[name] }}{% endfor %}',
    '{% set tools = [] %}{% for t in tools %}{{ t.parameters[t.name|lower] }}{% endfor %}',
    '{% macro g(o, k) %}{{ o[k] }}{% endmacro %}{{ g(messages, "role") }}{{ g(messages, loop.index0) }}',
    "{% set sorted = 'cab'|list|sort|join %}{{ messages[sorted] }}",
  ])
    assert.deepEqual(worst(src).rules, [], src);
});

test('macro and caller arguments carry values: folded names and origins reach the parameters', () => {
  for (const src of [
    "{% macro g(o, k) %}{{ o[k] }}{% endmacro %}{{ g(messages, '_'|d ~ '_' ~ 'cla' ~ 'ss' ~ '_' ~ '_') }}",
    '{% macro g(o, a, b) %}{{ o[a][b] }}{% endmacro %}{{ g("", x.y, x.z) }}',
    "{% macro m(o) %}{{ caller(o) }}{% endmacro %}{% call(x) m('') %}{{ x[bos_token][eos_token] }}{% endcall %}",
    '{% set q = [] %}{% set p = q %}{% set _ = p.append(lipsum) %}{{ q[0][a][b] }}',
  ])
    assert.equal(worst(src).sev, 'critical', src);
});

test('render-time memory: padding and format widths, repeated sequences, int() of constants', () => {
  for (const src of [
    "{{ 'x'|center(1000000000) }}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ 'x'.zfill(10**9) }}",
    "{{ 'x'|indent(1000000000) }}",
    "{{ '%1000000000s'|format('x') }}",
    "{{ '{:>1000000000}'.format('x') }}",
    "{{ '%*s'|format(1000000000, 'x') }}",
    '{% for x in [0] * 100000000 %}{% endfor %}',
    "{{ 'x' * ('9' * 10)|int }}",
  ]) {
    const w = worst(src);
    assert.ok(w.rules.includes('MG901'), `${src}: ${JSON.stringify(w)}`);
  }
  assert.deepEqual(worst("{{ m.content|center(80) }}{{ '%-10s'|format(m.role) }}{{ '=' * 40 }}").rules, [
    'MG444',
  ]);
});

test('str.format on a format string computed at render time is high', () => {
  for (const src of ['{{ bos_token.format(messages) }}', '{{ m.content.format_map(messages) }}'])
    assert.equal(worst(src).sev, 'high', src);
});

test('pathological templates are bounded', () => {
  const deep = `{{ ${'('.repeat(5000)}1${')'.repeat(5000)} }}`;
  const r = analyzeTemplate(deep);
  assert.ok(r.findings.length <= 40);
  const wide = `{% for m in messages %}${'{{ m.content|trim }}'.repeat(20000)}{% endfor %}`;
  assert.deepEqual(analyzeTemplate(wide).findings, []);
});

test('loader statements and render-time exhaustion are high', () => {
  for (const src of [
    "{% include '/etc/passwd' %}",
    "{% import 'x.j2' as x %}",
    "{% extends 'base.html' %}",
    "{{ 'A' * 1000000000 }}",
    '{{ 10 ** 100000 }}',
    '{% for i in range(100000000000) %}x{% endfor %}',
  ]) {
    const w = worst(src);
    assert.ok(RANK[w.sev] >= RANK.high, `${src}: ${JSON.stringify(w)}`);
  }
});

test('names spelled from characters of object reprs or from unknown pieces are flagged', () => {
  for (const u of ['{% set u = (()|select|string)[24] %}', '{% set u = ([]|select|string)[24] %}']) {
    const a = worst(`${u}{{ messages[u*2 ~ 'class' ~ u*2] }}`);
    assert.equal(a.sev, 'critical', JSON.stringify(a));
    const b = worst(`${u}{{ messages|attr(u*2 ~ 'class' ~ u*2) }}`);
    assert.equal(b.sev, 'critical', JSON.stringify(b));
  }
  const c = worst('{% set u = (lipsum|string|list)[30] %}{{ u }}');
  assert.ok(RANK[c.sev] >= RANK.high, JSON.stringify(c));
  // Ordinary indexing of message text is not character extraction.
  assert.equal(worst('{{ (message.content|string)[0] }}').sev, 'none');
});

test('a template too large to parse is suspicious and still checked by pattern', () => {
  const big = `${'{{ message.content }}'.repeat(60_000)}{{ lipsum.__globals__ }}`;
  const r = analyzeTemplate(big);
  assert.equal(r.parsed, false);
  assert.ok(r.findings.some((f) => f.ruleId === 'MG445'));
  assert.ok(r.findings.some((f) => f.ruleId === 'MG440' && f.symbol === '__globals__'));
});
