/* test_jinja.c — the Jinja engine feature by feature (each statement, operator, filter, test
 * and method with its expected output, as Python Jinja2 with transformers' settings renders
 * it), the error messages for templates we cannot or must not render, and hostile templates
 * that must end quickly in a clean error. */
#include "testutil.h"

#include <time.h>

#include "chat/jinja.h"

typedef struct jcase {
    const char *tmpl;
    const char *vars; /* JSON object or NULL */
    const char *want; /* expected output, or NULL when an error is expected */
    const char *err;  /* substring of the expected error message */
} jcase;

static const jcase CASES[] = {
    /* output, literals, printing like Python's str() */
    {"hello", NULL, "hello", NULL},
    {"{{ 'a' }}{{ \"b\" }}{{ 'c' 'd' }}", NULL, "abcd", NULL},
    {"{{ 1 }} {{ -2 }} {{ 1.5 }} {{ 2.0 }} {{ 1e3 }} {{ 1_000 }}", NULL, "1 -2 1.5 2.0 1000.0 1000", NULL},
    {"{{ true }} {{ false }} {{ none }} {{ True }} {{ None }}", NULL, "True False None True None", NULL},
    {"{{ [1, 'a', none, true] }}", NULL, "[1, 'a', None, True]", NULL},
    {"{{ {'k': 'v', 'n': 1} }}", NULL, "{'k': 'v', 'n': 1}", NULL},
    {"{{ \"it's\" }}|{{ [\"it's\"] }}", NULL, "it's|[\"it's\"]", NULL},
    {"{{ 'a\\nb\\t\\u00e9\\x41' }}", NULL, "a\nb\t\xc3\xa9" "A", NULL},
    {"{{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ 1e20 }} {{ 1e-5 }} {{ 123456789.125 }}", NULL,
     "0.30000000000000004 0.3333333333333333 1e+20 1e-05 123456789.125", NULL},
    {"[{{ undefined_thing }}]", NULL, "[]", NULL},
    /* arithmetic */
    {"{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }}", NULL,
     "3 -4 1 2 3.5 1024 0.5", NULL},
    {"{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 10 - 2 - 3 }} {{ 2 * 3 ** 2 }}", NULL, "7 9 5 18", NULL},
    {"{{ 'ab' * 3 }} {{ [1] * 2 }} {{ 'a' + 'b' }} {{ [1] + [2] }} {{ 1 ~ 'x' ~ none }}", NULL,
     "ababab [1, 1] ab [1, 2] 1xNone", NULL},
    {"{{ true + 1 }} {{ 1 + 1.5 }}", NULL, "2 2.5", NULL},
    /* comparisons and logic */
    {"{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ 'a' != 'b' }} {{ 'b' >= 'a' }}", NULL,
     "True False True True True", NULL},
    {"{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }}", NULL,
     "True True True True", NULL},
    {"{{ [] or 'x' }} {{ 'a' and 'b' }} {{ 0 and 1 }} {{ not [] }} {{ not 1 }}", NULL, "x b 0 True False", NULL},
    {"{{ 'y' if 1 else 'n' }} {{ 'y' if 0 else 'n' }} [{{ 'y' if 0 }}]", NULL, "y n []", NULL},
    {"{{ [1, 2] == [1, 2] }} {{ {'a': 1} == {'a': 1} }} {{ x == y }}", NULL, "True True True", NULL},
    /* indexing, attributes, slicing */
    {"{{ m.a }} {{ m['a'] }} {{ l[0] }} {{ l[-1] }} {{ l.1 }} [{{ l[9] }}]",
     "{\"m\": {\"a\": 5}, \"l\": [1, 2, 3]}", "5 5 1 3 2 []", NULL},
    {"{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ 'hello'[-3:] }} {{ [1,2,3,4][::2] }} {{ [1,2,3][5:] }}", NULL,
     "el olleh llo [1, 3] []", NULL},
    {"{{ 'h\xc3\xa9llo'[1] }}{{ 'h\xc3\xa9llo'|length }}{{ 'a\xc3\xa9'[::-1] }}", NULL, "\xc3\xa9" "5\xc3\xa9" "a", NULL},
    /* statements */
    {"{% if 0 %}a{% elif 1 %}b{% else %}c{% endif %}", NULL, "b", NULL},
    {"{% if 0 %}a{% elif 0 %}b{% else %}c{% endif %}", NULL, "c", NULL},
    {"{% for x in [1, 2, 3] %}{{ x }}{% endfor %}", NULL, "123", NULL},
    {"{% for x in [] %}{{ x }}{% else %}empty{% endfor %}", NULL, "empty", NULL},
    {"{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
     "{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", NULL,
     "1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;", NULL},
    {"{% for x in [1,2,3] %}{{ loop.previtem | default('-') }}{{ loop.nextitem | default('-') }},{% endfor %}",
     NULL, "-2,13,2-,", NULL},
    {"{% for x in [1,2,3] %}{{ loop.cycle('a', 'b') }}{% endfor %}", NULL, "aba", NULL},
    {"{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "{\"d\": {\"b\": 1, \"a\": 2}}", "b=1;a=2;", NULL},
    {"{% for k in d %}{{ k }}{% endfor %}", "{\"d\": {\"b\": 1, \"a\": 2}}", "ba", NULL},
    {"{% for x in range(10) if x is odd %}{{ x }}{{ loop.length }} {% endfor %}", NULL, "15 35 55 75 95 ", NULL},
    {"{% for x in range(5) %}{% if x == 3 %}{% break %}{% endif %}{{ x }}{% endfor %}", NULL, "012", NULL},
    {"{% for x in range(5) %}{% if x is even %}{% continue %}{% endif %}{{ x }}{% endfor %}", NULL, "13", NULL},
    {"{% for a in [1,2] %}{% for b in [3,4] %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}|{% endfor %}",
     NULL, "113 214 1|123 224 2|", NULL},
    {"{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}", NULL, "1", NULL},
    {"{% set ns = namespace(x=1) %}{% for i in [1] %}{% set ns.x = ns.x + 1 %}{% endfor %}{{ ns.x }}", NULL, "2", NULL},
    {"{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c, d = [3, 4] %}{{ c }}{{ d }}", NULL, "1234", NULL},
    {"{% set block %}x{{ 1 + 1 }}y{% endset %}[{{ block }}]", NULL, "[x2y]", NULL},
    {"{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', punct='?') }}",
     NULL, "Hi A! Hi B?", NULL},
    {"{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}", NULL, "(1, 2){'k': 3}", NULL},
    {"{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inner{% endcall %}", NULL, "<inner>", NULL},
    {"{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}", NULL, "321", NULL},
    {"{% filter upper %}abc{{ 'd' }}{% endfilter %}", NULL, "ABCD", NULL},
    {"{% raw %}{{ not parsed }}{% endraw %}", NULL, "{{ not parsed }}", NULL},
    {"a{# comment #}b", NULL, "ab", NULL},
    {"{% generation %}g{% endgeneration %}", NULL, "g", NULL},
    {"{% set l = [] %}{% do l.append(1) %}{{ l.append(2) }}{{ l }}", NULL, "None[1, 2]", NULL},
    /* whitespace control and transformers' trim_blocks / lstrip_blocks */
    {"a  {{- 'b' -}}  c", NULL, "abc", NULL},
    {"a \n {%- if true -%} \n b \n {%- endif -%} \n c", NULL, "abc", NULL},
    {"{% if true %}\nyes\n{% endif %}\n", NULL, "yes\n", NULL},
    {"  {% if true %}\n  x\n  {% endif %}\nend", NULL, "  x\nend", NULL},
    {"a {% if true %}b{% endif %}", NULL, "a b", NULL},
    {"{{ 'x' }}\n", NULL, "x", NULL},
    {"{{ 'x' }}\n\n", NULL, "x\n", NULL},
    {"  {#- c -#}  x", NULL, "x", NULL},
    {"  {# c #}\nx", NULL, "x", NULL},
    {"{%+ if true %}y{% endif %}", NULL, "y", NULL},
    {"  {%+ if true %}y{% endif %}", NULL, "  y", NULL},
    {"{% if true +%}\ny{% endif %}", NULL, "\ny", NULL},
    {"{{ {'a': {'b': 1}} }}", NULL, "{'a': {'b': 1}}", NULL},
    /* filters */
    {"{{ '  x  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}", NULL, "x|a|ABC|abc", NULL},
    {"{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}|{{ \"it's-a x\" | title }}", NULL,
     "Hello World|Hello|It's-A X", NULL},
    {"{{ [1, 2] | length }}{{ 'abc' | length }}{{ {'a': 1} | length }}{{ [1, 2] | count }}", NULL, "2312", NULL},
    {"{{ x | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|{{ x | d('e') }}", NULL, "d||d|e", NULL},
    {"{{ [1, 2, 3] | join(', ') }}|{{ ['a', 'b'] | join }}|{{ [{'n': 'x'}, {'n': 'y'}] | join('-', attribute='n') }}",
     NULL, "1, 2, 3|ab|x-y", NULL},
    {"{{ 'aaa' | replace('a', 'b') }}|{{ 'aaa' | replace('a', 'b', 2) }}", NULL, "bbb|bba", NULL},
    {"{{ [3, 1, 2] | first }}{{ [3, 1, 2] | last }}{{ 'abc' | first }}", NULL, "32a", NULL},
    {"{{ 'ab' | list }}{{ {'k': 1} | list }}{{ {'k': 1} | items | list }}", NULL, "['a', 'b']['k'][('k', 1)]", NULL},
    {"{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '2.5' | float }} {{ 2 | float }}",
     NULL, "42 4 0 7 3 2.5 2.0", NULL},
    {"{{ 5 | string }}{{ (5 | string) ~ 'x' }}{{ '<b>' | safe }}{{ '<a&\"' | e }}", NULL, "55x<b>&lt;a&amp;&#34;", NULL},
    {"{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(1, blank=true) }}",
     NULL, "a\n  b\n\n  c|  a\n  b|a\n \n b", NULL},
    {"{{ [3, 1, 2] | sort }}{{ [3, 1, 2] | sort(reverse=true) }}{{ ['b', 'A', 'a'] | sort }}", NULL,
     "[1, 2, 3][3, 2, 1]['A', 'a', 'b']", NULL},
    {"{{ [{'n': 2}, {'n': 1}] | sort(attribute='n') | map(attribute='n') | list }}", NULL, "[1, 2]", NULL},
    {"{{ {'b': 1, 'a': 2} | dictsort }}{{ [1, 2, 2, 'A', 'a'] | unique | list }}", NULL,
     "[('a', 2), ('b', 1)][1, 2, 'A']", NULL},
    {"{{ [1, -2] | map('abs') | list }}{{ ['a', 'b'] | map('upper') | join }}{{ [1, 2, 3] | sum }}{{ [1, 5, 3] | max }}{{ [4, 2] | min }}",
     NULL, "[1, 2]AB652", NULL},
    {"{{ [1, 2, 3, 4] | select('odd') | list }}{{ [1, 2, 3, 4] | reject('odd') | list }}{{ [0, 1, ''] | select | list }}",
     NULL, "[1, 3][2, 4][1]", NULL},
    {"{{ users | selectattr('admin') | map(attribute='name') | join(',') }}|"
     "{{ users | rejectattr('admin') | map(attribute='name') | join(',') }}|"
     "{{ users | selectattr('name', 'equalto', 'b') | map(attribute='name') | join }}",
     "{\"users\": [{\"name\": \"a\", \"admin\": true}, {\"name\": \"b\", \"admin\": false}]}", "a|b|b", NULL},
    {"{{ [1, 2] | reverse | list }}{{ 'abc' | reverse }}{{ -3 | abs }}{{ 2.567 | round(2) }}{{ 2.5 | round }}", NULL,
     "[2, 1]cba32.572.0", NULL},
    {"{{ 'one two  three' | wordcount }}[{{ d | attr('k') }}]", "{\"d\": {\"k\": 9}}", "3[]", NULL},
    {"{{ (1,) }}{{ () }}{{ (1, 'a') | tojson }}", NULL, "(1,)()[1, \"a\"]", NULL},
    /* tojson as transformers writes it */
    {"{{ d | tojson }}", "{\"d\": {\"b\": [1, 2.5, true, null], \"a\": \"\\u00e9\\\"\\n\"}}",
     "{\"b\": [1, 2.5, true, null], \"a\": \"\xc3\xa9\\\"\\n\"}", NULL},
    {"{{ d | tojson(indent=2) }}", "{\"d\": {\"a\": [1, {}], \"b\": []}}",
     "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}", NULL},
    {"{{ d | tojson(sort_keys=true) }}{{ 'caf\xc3\xa9' | tojson(ensure_ascii=true) }}{{ '\\u0001' | tojson }}",
     "{\"d\": {\"b\": 1, \"a\": 2}}", "{\"a\": 2, \"b\": 1}\"caf\\u00e9\"\"\\u0001\"", NULL},
    {"{{ 2.0 | tojson }} {{ 1e100 | tojson }} {{ '\xf0\x9f\x98\x80' | tojson(ensure_ascii=true) }}", NULL,
     "2.0 1e+100 \"\\ud83d\\ude00\"", NULL},
    /* tests */
    {"{{ x is defined }}{{ x is undefined }}{{ none is none }}{{ 'a' is string }}{{ 1 is number }}{{ 1.5 is float }}"
     "{{ 1 is integer }}", NULL, "FalseTrueTrueTrueTrueTrueTrue", NULL},
    {"{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is iterable }}{{ 1 is iterable }}{{ [] is sequence }}"
     "{{ true is boolean }}{{ true is true }}{{ false is false }}{{ 0 is false }}", NULL,
     "TrueTrueTrueFalseTrueTrueTrueTrueFalse", NULL},
    {"{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 1 is eq 1 }}{{ 1 is equalto(2) }}{{ 2 is gt 1 }}"
     "{{ 'a' is in 'abc' }}{{ 'ab' is lower }}{{ 'AB' is upper }}{{ x is not defined }}", NULL,
     "TrueTrueTrueTrueFalseTrueTrueTrueTrueTrue", NULL},
    {"{{ range is callable }}{{ l is sameas l }}", "{\"l\": [1]}", "TrueTrue", NULL},
    {"[{{ x | trim }}{{ x | upper }}{{ x | join }}{{ x | list }}{{ x | length }}{{ x | sum }}{{ x | sort }}{{ x | first }}]"
     "{{ x is sequence }}{{ 4.0 is divisibleby 2 }}{{ true | abs }}", NULL, "[[]00[]]TrueTrue1", NULL},
    {"{{ x | int }}", NULL, NULL, "filter 'int' applied to an undefined value"},
    {"{{ 'y' if (false | safe) else 'n' }}{{ [1] | safe }}", NULL, "y[1]", NULL},
    {"{{ [{'a': 1}] | unique | list }}", NULL, NULL, "unique: a dict cannot be compared for uniqueness"},
    {"{{ 3 | round(1) }}{{ 3 | round(1, 'ceil') }}{{ ['a'] is lower }}{{ none is upper }}", NULL, "33.0TrueFalse", NULL},
    {"{{ x is iterable }}{{ none is iterable }}[{{ {'a': 1}[x] }}][{{ [1][x] }}]{% for i in x %}no{% endfor %}", NULL,
     "TrueFalse[][]", NULL},
    /* string methods */
    {"{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('bc') }}{{ 'abc'.startswith(('x', 'a')) }}", NULL, "TrueTrueTrue", NULL},
    {"{{ 'a,b,,c'.split(',') }}{{ '  a  b '.split() }}{{ 'a,b,c'.split(',', 1) }}", NULL,
     "['a', 'b', '', 'c']['a', 'b']['a', 'b,c']", NULL},
    {"[{{ '  x  '.strip() }}][{{ '  x  '.lstrip() }}][{{ '  x  '.rstrip() }}][{{ '\\n\\nx\\n'.strip('\\n') }}][{{ 'xyax'.strip('xy') }}]",
     NULL, "[x][x  ][  x][x][a]", NULL},
    {"{{ 'Ab'.lower() }}{{ 'Ab'.upper() }}{{ 'hi there'.title() }}{{ 'hi'.capitalize() }}{{ 'aXa'.replace('a', 'b') }}",
     NULL, "abABHi ThereHibXb", NULL},
    {"{{ 'abcb'.find('b') }}{{ 'abcb'.count('b') }}{{ '-'.join(['a', 'b']) }}{{ 'x.json'.removesuffix('.json') }}", NULL,
     "12a-bx", NULL},
    {"{{ '\xc3\x89T\xc3\x89'.lower() }}{{ '\xc3\xa9t\xc3\xa9' | upper }}", NULL, "\xc3\xa9t\xc3\xa9\xc3\x89T\xc3\x89", NULL},
    /* Python string formatting */
    {"{{ '%s' % 1 }}|{{ '%s and %r' % ('a', 'b') }}|{{ '%5.2f|%-4d|%03d|%x|%%' % (3.14159, 7, 5, 255) }}", NULL,
     "1|a and 'b'| 3.14|7   |005|ff|%", NULL},
    {"{{ '%(n)s=%(v)d' % {'n': 'x', 'v': 2} }}|{{ '%s-%s' | format('a', 1) }}|{{ '%.2s' % 'abc' }}|{{ '%5s|' % 'ab' }}"
     "{{ '%s' % [1, 2] }}", NULL, "x=2|a-1|ab|   ab|[1, 2]", NULL},
    {"{{ '{} {}'.format('a', 1) }}{{ '{1}{0}'.format('a', 'b') }}{{ '{x}!'.format(x=3) }}{{ '{{}}'.format() }}", NULL,
     "a 1ba3!{}", NULL},
    {"{{ '%s %s' % 1 }}", NULL, NULL, "not enough arguments for format string"},
    {"{{ '%s' % (1, 2) }}", NULL, NULL, "not all arguments converted"},
    {"{{ '%q' % 1 }}", NULL, NULL, "unsupported format character 'q'"},
    {"{{ '{:>5}'.format(1) }}", NULL, NULL, "unsupported feature: str.format() field '{:>5}'"},
    {"{{ '{5}'.format(1) }}", NULL, NULL, "replacement index 5 out of range"},
    /* dict and list methods */
    {"{{ d.get('a') }}{{ d.get('z') }}{{ d.get('z', 0) }}{{ d.keys() | list }}{{ d.values() | list }}", "{\"d\": {\"a\": 1}}",
     "1None0['a'][1]", NULL},
    {"{% set l = [1, 2, 3] %}{{ l.pop() }}{{ l }}{{ l.index(2) }}{{ l.count(1) }}", NULL, "3[1, 2]11", NULL},
    /* globals */
    {"{{ range(3) | list }}{{ range(1, 7, 2) | list }}{{ range(3, 0, -1) | list }}", NULL, "[0, 1, 2][1, 3, 5][3, 2, 1]", NULL},
    {"{{ dict(a=1) }}{% set ns = namespace({'x': 1}, y=2) %}{{ ns.x }}{{ ns.y }}", NULL, "{'a': 1}12", NULL},
    /* errors a template raises or we refuse */
    {"{{ raise_exception('bad roles') }}", NULL, NULL, "raise_exception: bad roles"},
    {"line1\n{{ x | frobnicate }}", NULL, NULL, "line 2, col 8: unknown filter 'frobnicate'"},
    {"{{ x is frobnicated }}", NULL, NULL, "unknown test 'frobnicated'"},
    {"{% include 'other.j2' %}", NULL, NULL, "line 1, col 4: unsupported tag 'include'"},
    {"{% extends 'base' %}", NULL, NULL, "unsupported tag 'extends'"},
    {"{% for x in y recursive %}{% endfor %}", NULL, NULL, "unsupported feature: recursive loops"},
    {"{{ f(*args) }}", NULL, NULL, "unsupported feature: *-arguments"},
    {"{{ nosuchfunction(1) }}", NULL, NULL, "unknown function 'nosuchfunction'"},
    {"{{ 'abc'.nosuchmethod() }}", NULL, NULL, "has no method 'nosuchmethod'"},
    {"{{ x.y }}", NULL, NULL, "'x' is undefined"},
    {"{{ d.missing.deeper }}", "{\"d\": {}}", NULL, "has no attribute 'missing'"},
    {"{{ 1 / 0 }}", NULL, NULL, "division by zero"},
    {"{{ 'a' + 1 }}", NULL, NULL, "unsupported operand types for +: string and int"},
    {"{{ 1 < 'a' }}", NULL, NULL, "cannot compare"},
    {"{{ 9223372036854775807 + 1 }}", NULL, NULL, "integer overflow"},
    {"{{ x | tojson }}", NULL, NULL, "tojson: cannot serialize an undefined value"},
    {"{{ x | abs }}", NULL, NULL, "filter 'abs' applied to an undefined value: 'x' is undefined"},
    {"{% set x = 1 %}{% set x.y = 2 %}", NULL, NULL, "only a namespace"},
    {"{% break %}", NULL, NULL, "'break' outside a for loop"},
    {"{{ [1,2,3][::0] }}", NULL, NULL, "slice step cannot be zero"},
    /* malformed templates: position of the problem */
    {"abc {{ 1 + }}", NULL, NULL, "line 1, col 12: unexpected '}}'"},
    {"{{ 'abc }}", NULL, NULL, "unterminated string literal"},
    {"text {{ x ", NULL, NULL, "line 1, col 6: unterminated '{{' tag"},
    {"\n\n  {% if x %}never closed", NULL, NULL, "line 3, col 3: 'if' tag is never closed"},
    {"{% for x in y %}{% endif %}", NULL, NULL, "unexpected 'endif' tag"},
    {"{% endfor %}", NULL, NULL, "unexpected 'endfor' tag"},
    {"{% if %}{% endif %}", NULL, NULL, "unexpected '%}' in expression"},
    {"{# never closed", NULL, NULL, "unterminated comment"},
    {"{{ a $ b }}", NULL, NULL, "unexpected character in tag: $"},
    {"{% raw %}abc", NULL, NULL, "without '{% endraw %}'"},
    {"{{ 99999999999999999999 }}", NULL, NULL, "integer literal out of range"},
    {"{{ 'bad \\uZZZZ' }}", NULL, NULL, "bad \\x/\\u escape"},
    {"{{ 1 }", NULL, NULL, "unterminated '{{' tag"},
};

static void test_feature_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const jcase *c = &CASES[i];
        json_error_t je;
        json_t *vars = c->vars ? json_loads(c->vars, 0, &je) : NULL;
        if (c->vars && !vars) fail_msg("case %zu: bad test JSON: %s", i, je.text);
        char *out = NULL;
        size_t n = 0;
        hearth_error err = {0};
        hearth_status st = jinja_render_text(c->tmpl, strlen(c->tmpl), vars, NULL, &out, &n, &err);
        if (c->want) {
            if (st != HEARTH_OK) {
                printf("case %zu: %s\n  unexpected error: %s\n", i, c->tmpl, err.message);
                failures++;
            } else if (n != strlen(c->want) || memcmp(out, c->want, n)) {
                printf("case %zu: %s\n  got:  [%s]\n  want: [%s]\n", i, c->tmpl, out, c->want);
                failures++;
            }
        } else if (st == HEARTH_OK) {
            printf("case %zu: %s\n  expected an error containing '%s', got [%s]\n", i, c->tmpl, c->err, out);
            failures++;
        } else if (!strstr(err.message, c->err)) {
            printf("case %zu: %s\n  error: %s\n  want:  ...%s...\n", i, c->tmpl, err.message, c->err);
            failures++;
        }
        free(out);
        json_decref(vars);
    }
    assert_int_equal(failures, 0);
}

/* 800 random templates over the features above, rendered by Python Jinja2 (written by
 * tests/data/chat/make_random.py): the same output byte for byte, or an error where Python
 * raised one. Python evaluates some filters lazily (a generator is truthy even when it would
 * fail if iterated); those few cases are where hearth, which evaluates eagerly, may fail
 * instead, and they are counted, not hidden. */
static void test_random_corpus(void **state)
{
    (void)state;
    json_error_t je;
    json_t *root = json_load_file("tests/data/chat/random.json", 0, &je);
    if (!root) fail_msg("tests/data/chat/random.json: %s (run from the repository root)", je.text);
    json_t *vars = json_object_get(root, "variables");
    size_t i;
    json_t *c;
    int same = 0, both_fail = 0, eager_fail = 0;
    json_array_foreach(json_object_get(root, "cases"), i, c) {
        const char *t = json_string_value(json_object_get(c, "template"));
        const json_t *want = json_object_get(c, "rendered");
        char *out = NULL;
        size_t n = 0;
        hearth_error err = {0};
        hearth_status st = jinja_render_text(t, strlen(t), vars, NULL, &out, &n, &err);
        if (!want) {
            if (st == HEARTH_OK) fail_msg("case %zu: %s\n  Python: %s\n  hearth rendered [%s]", i, t,
                                          json_string_value(json_object_get(c, "error")), out);
            both_fail++;
        } else if (st != HEARTH_OK) {
            if (!strstr(err.message, "needs a sequence") && !strstr(err.message, "needs a mapping"))
                fail_msg("case %zu: %s\n  hearth: %s\n  Python rendered [%s]", i, t, err.message,
                         json_string_value(want));
            eager_fail++;
        } else {
            if (n != json_string_length(want) || memcmp(out, json_string_value(want), n))
                fail_msg("case %zu: %s\n  hearth [%s]\n  Python [%s]", i, t, out, json_string_value(want));
            same++;
        }
        free(out);
    }
    printf("random corpus: %d identical, %d errors on both sides, %d eager-filter errors\n", same,
           both_fail, eager_fail);
    assert_true(same >= 400);
    assert_true(eager_fail <= 10);
    json_decref(root);
}

static void expect_error_quickly(const char *tmpl, const jinja_options *opt, const char *want)
{
    char *out = NULL;
    hearth_error err = {0};
    clock_t t0 = clock();
    hearth_status st = jinja_render_text(tmpl, strlen(tmpl), NULL, opt, &out, NULL, &err);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (st == HEARTH_OK) fail_msg("%s: rendered %zu bytes instead of failing", tmpl, strlen(out));
    if (!strstr(err.message, want)) fail_msg("%s: error '%s' lacks '%s'", tmpl, err.message, want);
    if (secs > 10) fail_msg("%s: took %.1f s to fail", tmpl, secs);
}

static void test_hostile(void **state)
{
    (void)state;
    /* runaway loops end on the step budget, not after 10^9 iterations */
    expect_error_quickly("{% for i in range(1000000000) %}x{% endfor %}", NULL, "larger than the memory limit");
    expect_error_quickly("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
                         NULL, "budget of");
    /* infinite recursion through macros */
    expect_error_quickly("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", NULL, "nest deeper than 100");
    /* output that doubles without bound */
    expect_error_quickly("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
                         "{% endfor %}{{ ns.s }}", NULL, "memory");
    expect_error_quickly("{{ 'x' * 100000000000 }}", NULL, "repetition too large");
    /* a smaller output limit is honoured exactly */
    jinja_options small;
    jinja_default_options(&small);
    small.max_output = 1000;
    expect_error_quickly("{% for i in range(2000) %}y{% endfor %}", &small, "output exceeds the limit of 1000 bytes");
    /* deep nesting is refused at parse time, before it can exhaust the C stack */
    static char deep[40000];
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof deep - n, "{{ ");
    for (int i = 0; i < 5000; i++) deep[n++] = '(';
    deep[n++] = '1';
    for (int i = 0; i < 5000; i++) deep[n++] = ')';
    snprintf(deep + n, sizeof deep - n, " }}");
    expect_error_quickly(deep, NULL, "nests deeper than 200 levels");
    n = 0;
    for (int i = 0; i < 3000; i++) n += (size_t)snprintf(deep + n, sizeof deep - n, "{%% if 1 %%}");
    expect_error_quickly(deep, NULL, "nests deeper");
    for (n = 0; n < 20000; n++) deep[n] = '-';
    snprintf(deep + n, sizeof deep - n, "1");
    memmove(deep + 3, deep, n + 2);
    memcpy(deep, "{{ ", 3);
    strcat(deep, " }}");
    expect_error_quickly(deep, NULL, "nests deeper");
    /* a long elif chain is not deep nesting */
    n = (size_t)snprintf(deep, sizeof deep, "{%% if x == 0 %%}0");
    for (int i = 1; i < 500; i++) n += (size_t)snprintf(deep + n, sizeof deep - n, "{%% elif x == %d %%}%d", i, i);
    snprintf(deep + n, sizeof deep - n, "{%% else %%}none{%% endif %%}");
    json_t *x = json_pack("{s:i}", "x", 321);
    char *out = NULL;
    hearth_error err = {0};
    assert_int_equal(jinja_render_text(deep, strlen(deep), x, NULL, &out, NULL, &err), HEARTH_OK);
    assert_string_equal(out, "321");
    free(out);
    json_decref(x);
    /* a self-containing list cannot loop forever when printed */
    expect_error_quickly("{% set l = [] %}{% do l.append(l) %}{{ l }}", NULL, "deeper than");
    expect_error_quickly("{% set l = [] %}{% do l.append(l) %}{{ l | tojson }}", NULL, "deeper than");
    expect_error_quickly("{% set a = [] %}{% set b = [] %}{% do a.append(b) %}{% do b.append(a) %}"
                         "{{ [a] < [b] }}", NULL, "nests too deeply");
    const char *cyc = "{% set a = [] %}{% set b = [] %}{% do a.append(b) %}{% do b.append(a) %}"
                      "{{ a == b }}{{ a == a }}{{ a in [b] }}{{ [a, b] | length }}";
    assert_int_equal(jinja_render_text(cyc, strlen(cyc), NULL, NULL, &out, NULL, &err), HEARTH_OK);
    assert_string_equal(out, "FalseTrueFalse2");
    free(out);
    /* invalid UTF-8 in the template itself */
    expect_error_quickly("ok\n\xff{{ 1 }}", NULL, "line 2: invalid UTF-8");
    expect_error_quickly("\xf4\x90\x80\x80", NULL, "invalid UTF-8");  /* beyond U+10FFFF */
    expect_error_quickly("\xed\xa0\x80", NULL, "invalid UTF-8");      /* a surrogate */
    expect_error_quickly("\xc0\xaf", NULL, "invalid UTF-8");          /* overlong */
    expect_error_quickly("ab\xe2\x82", NULL, "invalid UTF-8 at byte 2"); /* truncated */
}

/* Random bytes and random token soup never crash and always end (in output or an error). */
static void test_fuzz(void **state)
{
    (void)state;
    static const char *const pieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "+", " if ", " for ",
                                         " in ", "x", "'s'", "\"", "(", ")", "[", "]", "{", "}", ":",
                                         ",", ".", "|", "trim", "endif", "endfor", "else", " is ",
                                         "1", "2.5", "loop", "set", "=", "macro", "call", "~", "*",
                                         "\n", " ", "not", "and", "or", "range(3)", "ns", "\\"};
    uint32_t seed = 12345;
    char buf[512];
    for (int iter = 0; iter < 4000; iter++) {
        size_t n = 0;
        int parts = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
        for (int p = 0; p < parts; p++) {
            seed = seed * 1103515245u + 12345u;
            const char *s = pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])];
            size_t l = strlen(s);
            if (n + l >= sizeof buf) break;
            memcpy(buf + n, s, l);
            n += l;
        }
        buf[n] = 0;
        char *out = NULL;
        hearth_error err = {0};
        json_t *vars = json_pack("{s:[s,i],s:{s:s}}", "x", "a", 1, "ns", "k", "v");
        if (jinja_render_text(buf, n, vars, NULL, &out, NULL, &err) == HEARTH_OK) assert_non_null(out);
        else assert_true(err.message[0] != 0);
        free(out);
        json_decref(vars);
    }
}

/* Parse once, render many times with different variables. */
static void test_reuse(void **state)
{
    (void)state;
    const char *t = "{% for m in messages %}[{{ m.role }}:{{ m.content | trim }}]{% endfor %}";
    hearth_error err = {0};
    jinja_template *tpl = jinja_parse(t, strlen(t), NULL, &err);
    assert_non_null(tpl);
    for (int i = 0; i < 3; i++) {
        json_t *v = json_pack("{s:[{s:s,s:s}]}", "messages", "role", i ? "user" : "system", "content", " hi ");
        char *out;
        assert_int_equal(jinja_render(tpl, v, &out, NULL, &err), HEARTH_OK);
        assert_string_equal(out, i ? "[user:hi]" : "[system:hi]");
        free(out);
        json_decref(v);
    }
    json_t *notobj = json_array();
    char *out;
    assert_int_equal(jinja_render(tpl, notobj, &out, NULL, &err), HEARTH_ERR_INVALID_ARG);
    assert_null(out);
    json_decref(notobj);
    jinja_free(tpl);
}

static void test_strftime(void **state)
{
    (void)state;
    jinja_options o;
    jinja_default_options(&o);
    o.now = 86400 * 365; /* 1971-01-01 UTC */
    char *out;
    hearth_error err = {0};
    const char *t = "{{ strftime_now('%d %b %Y') }}";
    assert_int_equal(jinja_render_text(t, strlen(t), NULL, &o, &out, NULL, &err), HEARTH_OK);
    assert_string_equal(out, "01 Jan 1971");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feature_table),
        cmocka_unit_test(test_random_corpus),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_strftime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
