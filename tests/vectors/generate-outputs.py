#!/usr/bin/env python3
"""Writes tests/vectors/outputs.json: output-comparison verdicts and salted output hashes.

Every case is written by hand here; the normalized forms are what the rules of src/core/outputs-normalize.ts say,
derived by a person, not by running that code. Hashes are sha256(salt || JCS(normalized)) with Python's hashlib and
json (sorted keys, no whitespace, UTF-8: the same bytes as RFC 8785 for the strings and integers used here). Run once
with `python3 tests/vectors/generate-outputs.py`; the spec only reads the JSON.
"""
import hashlib
import json
import os

SALT = '0x' + bytes(range(1, 33)).hex()

PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='
PNG_OTHER = PNG.replace('8z8BQ', '8z8BR')


def stream(text, name='stdout'):
    return {'output_type': 'stream', 'name': name, 'text': text}


def result(data, count=1, metadata=None):
    return {'output_type': 'execute_result', 'execution_count': count, 'data': data, 'metadata': metadata or {}}


def display(data, metadata=None, transient=None):
    out = {'output_type': 'display_data', 'data': data, 'metadata': metadata or {}}
    if transient is not None:
        out['transient'] = transient
    return out


def error(ename, evalue, traceback):
    return {'output_type': 'error', 'ename': ename, 'evalue': evalue, 'traceback': traceback}


def widget(model_id):
    return {'application/vnd.jupyter.widget-view+json': {'model_id': model_id, 'version_major': 2, 'version_minor': 0},
            'text/plain': 'IntSlider(value=0)'}


V = 'identical', 'normalized-equal', 'within-tolerance', 'differs'
verdicts = [
    # name, expected, actual, verdict, options, first difference (subset)
    ('execution count and metadata dropped', [result({'text/plain': '42'}, 1, {'a': 1})],
     [result({'text/plain': '42'}, 7, {'b': 2})], 'identical', None, None),
    ('multiline list equals joined string', [stream(['a\n', 'b\n'])], [stream('a\nb\n')], 'identical', None, None),
    ('transient display id dropped', [display({'text/plain': 'x'}, transient={'display_id': 'abc'})],
     [display({'text/plain': 'x'})], 'identical', None, None),
    ('stream split differently', [stream('hello '), stream('world\n')], [stream('hello world\n')], 'normalized-equal',
     None, None),
    ('memory address in repr', [result({'text/plain': '<__main__.A object at 0x7f3a9c2e10d0>'})],
     [result({'text/plain': '<__main__.A object at 0x7fb41c0a2e50>'})], 'normalized-equal', None, None),
    ('timestamps in a log', [stream('2024-05-01T10:00:00.123456+02:00 start\nat 2024-05-01 10:00:01 done\n', 'stderr')],
     [stream('2025-01-31T23:59:59Z start\nat 2025-01-31 23:59:59.5 done\n', 'stderr')], 'normalized-equal', None, None),
    ('uuid', [stream('run 123e4567-e89b-12d3-a456-426614174000\n')],
     [stream('run 9f1c2d3e-4b5a-6789-abcd-ef0123456789\n')], 'normalized-equal', None, None),
    ('ansi colours', [stream('\x1b[1;32mPASSED\x1b[0m\n')], [stream('PASSED\n')], 'normalized-equal', None, None),
    ('crlf and trailing whitespace', [stream('a  \r\nb\t\r\n')], [stream('a\nb\n')], 'normalized-equal', None, None),
    ('widget model id', [display(widget('a1b2c3'))], [display(widget('d4e5f6'))], 'normalized-equal', None, None),
    ('traceback paths', [error('ValueError', 'bad value', ['/home/alice/x.py line 3'])],
     [error('ValueError', 'bad value', ['/srv/run/x.py line 3'])], 'normalized-equal', None, None),
    ('carriage-return progress', [stream('10%\r'), stream('50%\r'), stream('100%\n')], [stream('100%\n')],
     'normalized-equal', None, None),
    ('float last digits', [result({'text/plain': '0.30000000000000004'})], [result({'text/plain': '0.3'})],
     'within-tolerance', None, None),
    ('numpy array repr', [result({'text/plain': 'array([0.12345678, 1.5e-09, -3.2e+05])'})],
     [result({'text/plain': 'array([0.12345679, 1.6e-09, -3.20000001e+05])'})], 'within-tolerance', None, None),
    ('json numbers', [display({'application/json': {'loss': 0.25, 'steps': [1, 2]}})],
     [display({'application/json': {'loss': 0.2500001, 'steps': [1, 2]}})], 'within-tolerance', None, None),
    ('nan equals nan', [stream('loss nan, best inf\n')], [stream('loss NaN, best inf\n')], 'within-tolerance', None,
     None),
    ('number beyond tolerance', [result({'text/plain': 'accuracy 0.5'})], [result({'text/plain': 'accuracy 0.51'})],
     'differs', None, {'outputIndex': 0, 'field': 'data', 'mimeType': 'text/plain', 'line': 1, 'column': 10}),
    ('loose rtol accepts it', [result({'text/plain': 'accuracy 0.5'})], [result({'text/plain': 'accuracy 0.504'})],
     'within-tolerance', {'rtol': 0.01}, None),
    ('normalized mode refuses tolerance', [result({'text/plain': '0.30000000000000004'})],
     [result({'text/plain': '0.3'})], 'differs', {'mode': 'normalized'},
     {'outputIndex': 0, 'field': 'data', 'mimeType': 'text/plain', 'line': 1, 'column': 4}),
    ('exact mode refuses masks', [result({'text/plain': 'at 0x7f3a9c2e10d0'})],
     [result({'text/plain': 'at 0x7fb41c0a2e50'})], 'differs', {'mode': 'exact'},
     {'outputIndex': 0, 'field': 'data', 'mimeType': 'text/plain', 'line': 1, 'column': 8}),
    ('image bytes differ', [display({'image/png': PNG, 'text/plain': '<Figure>'})],
     [display({'image/png': PNG_OTHER, 'text/plain': '<Figure>'})], 'differs', None,
     {'outputIndex': 0, 'field': 'data', 'mimeType': 'image/png', 'offset': PNG.index('8z8BQ') + 4}),
    ('base64 line breaks are not bytes', [display({'image/png': PNG[:40] + '\n' + PNG[40:] + '\n'})],
     [display({'image/png': PNG})], 'normalized-equal', None, None),
    ('svg is compared exactly', [display({'image/svg+xml': '<svg> <g/> </svg>\n'})],
     [display({'image/svg+xml': '<svg> <g/></svg>\n'})], 'differs', None,
     {'outputIndex': 0, 'field': 'data', 'mimeType': 'image/svg+xml', 'offset': 10}),
    ('exception type', [error('ValueError', 'x', [])], [error('TypeError', 'x', [])], 'differs', None,
     {'outputIndex': 0, 'field': 'ename'}),
    ('extra output', [stream('a\n')], [stream('a\n'), result({'text/plain': '1'})], 'differs', None,
     {'outputIndex': 1, 'field': 'outputs'}),
    ('literal text', [result({'text/plain': 'True'})], [result({'text/plain': 'False'})], 'differs', None,
     {'outputIndex': 0, 'field': 'data', 'mimeType': 'text/plain', 'line': 1, 'column': 1}),
    ('stream name', [stream('x\n', 'stdout')], [stream('x\n', 'stderr')], 'differs', None,
     {'outputIndex': 0, 'field': 'name'}),
    ('infinities of opposite sign', [stream('best inf\n')], [stream('best -inf\n')], 'differs', None,
     {'outputIndex': 0, 'field': 'text', 'line': 1, 'column': 6}),
    ('second line differs', [stream('step 1\nloss 0.25\nok\n')], [stream('step 1\nloss 0.35\nok\n')], 'differs', None,
     {'outputIndex': 0, 'field': 'text', 'line': 2, 'column': 6}),
    ('skip mode', [stream('a\n')], [stream('b\n')], 'skipped', {'mode': 'skip'}, None),
]

hashes = [
    ('empty', [], []),
    ('split stream and a result',
     [stream('hello '), stream(['world', '\n']), result({'text/plain': '42'}, 3, {'x': 1})],
     [{'output_type': 'stream', 'name': 'stdout', 'text': 'hello world\n'},
      {'output_type': 'execute_result', 'data': {'text/plain': '42'}}]),
    ('error with address and traceback',
     [stream('warn \x1b[33m2024-05-01 12:00:00\x1b[0m  \n', 'stderr'),
      error('KeyError', "'k' in <Table at 0x7f00deadbeef>", ['\x1b[31mTraceback\x1b[0m', '/tmp/x.py'])],
     [{'output_type': 'stream', 'name': 'stderr', 'text': 'warn <TIMESTAMP>\n'},
      {'output_type': 'error', 'ename': 'KeyError', 'evalue': "'k' in <Table at <ADDRESS>>"}]),
    ('display bundle of every kind',
     [display({'text/html': ['<b>id 123e4567-e89b-12d3-a456-426614174000</b>  \n', '<i>x</i>\n'],
               'image/png': PNG[:30] + '\n' + PNG[30:],
               'image/svg+xml': ['<svg>  \n', '</svg>\n'],
               'application/json': {'b': [1, 2], 'a': 'z'},
               **widget('f00ba7')}, {'isolated': True}, {'display_id': 'd1'})],
     [{'output_type': 'display_data', 'data': {
         'text/html': '<b>id <UUID></b>\n<i>x</i>\n',
         'image/png': PNG,
         'image/svg+xml': '<svg>  \n</svg>\n',
         'application/json': {'b': [1, 2], 'a': 'z'},
         'application/vnd.jupyter.widget-view+json': {},
         'text/plain': 'IntSlider(value=0)'}}]),
    ('unicode and progress',
     [stream('π ≈ 3.14159 — ünïcødé\n'), stream('0%\r'), stream('100% ✓\n')],
     [{'output_type': 'stream', 'name': 'stdout', 'text': 'π ≈ 3.14159 — ünïcødé\n100% ✓\n'}]),
]


def jcs(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode('utf-8')


out = {
    '//': 'Generated by tests/vectors/generate-outputs.py. Do not edit; change the generator and run it.',
    'salt': SALT,
    'verdicts': [
        dict({'name': n, 'expected': e, 'actual': a, 'verdict': v},
             **({'options': o} if o else {}), **({'firstDifference': d} if d else {}))
        for n, e, a, v, o, d in verdicts
    ],
    'hashes': [
        {'name': n, 'outputs': o, 'normalized': norm,
         'hash': '0x' + hashlib.sha256(bytes.fromhex(SALT[2:]) + jcs(norm)).hexdigest()}
        for n, o, norm in hashes
    ],
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'outputs.json')
with open(path, 'w', encoding='utf-8') as fh:
    json.dump(out, fh, indent=2, ensure_ascii=False)
    fh.write('\n')
print('wrote', path)
