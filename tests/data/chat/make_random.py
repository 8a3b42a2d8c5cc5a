#!/usr/bin/env python3
"""Writes random.json: random templates built from the Jinja features chat templates use
(expressions, filters, tests, methods, slicing, loops, conditionals, macros, whitespace
control), each rendered by Python Jinja2 configured as transformers configures it.
Templates Python rejects as syntax errors are dropped (hearth is more lenient there), and so
are outputs that print lazy Python objects (dict views, generators), which have no
template-visible meaning. Developer tool, run by hand; tests only read the result.
Usage: python3 tests/data/chat/make_random.py [SEED] [COUNT]"""
import random, json, os, sys, jinja2, jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment as SandboxedEnvironment
import copy
def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
env = SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
env.filters["tojson"] = tojson
CTX = {"x": 3, "y": -2, "f": 2.5, "s": "Hello World", "e": "", "u": "héllo wörld", "l": [3, 1, 2], "ls": ["b", "A", "c"],
       "d": {"a": 1, "b": "two", "c": [1, 2]}, "m": [{"role": "user", "content": " hi "}, {"role": "assistant", "content": "yo"}],
       "n": None, "t": True}
R = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
VARS = list(CTX) + ["undef"]
FILTERS0 = ["trim", "upper", "lower", "title", "capitalize", "length", "first", "last", "list", "string", "int", "float", "abs",
            "reverse | list", "sort", "unique | list", "tojson", "items | list", "dictsort", "sum", "max", "min", "wordcount", "safe", "count", "escape"]
TESTS0 = ["defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence", "boolean",
          "true", "false", "odd", "even", "lower", "upper"]
METHODS = ["upper()", "lower()", "strip()", "lstrip()", "rstrip()", "title()", "split()", "split(' ')", "split('l')", "startswith('He')",
           "endswith('d')", "replace('l', 'L')", "find('o')", "count('l')", "strip('Hd')", "capitalize()", "items()", "keys()", "values()",
           "get('a')", "get('z', 9)"]
def lit():
    k = R.randrange(7)
    if k == 0: return str(R.randrange(-5, 20))
    if k == 1: return R.choice(["1.5", "0.1", "2.0", "1e3", "-0.5"])
    if k == 2: return R.choice(["'a'", "'abc'", "\"x y\"", "''", "'it''s'", "'\\n'"])
    if k == 3: return "[" + ", ".join(expr(2) for _ in range(R.randrange(4))) + "]"
    if k == 4: return "{" + ", ".join("'k%d': %s" % (i, expr(2)) for i in range(R.randrange(3))) + "}"
    if k == 5: return R.choice(["true", "false", "none"])
    return "(" + expr(2) + ")"
def expr(depth=0):
    if depth > 3: return R.choice([lit(), R.choice(VARS)]) if depth < 5 else R.choice(VARS)
    k = R.randrange(12)
    if k < 2: return lit()
    if k < 4: return R.choice(VARS)
    if k == 4: return "%s %s %s" % (expr(depth+1), R.choice(["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">=", "in", "not in", "and", "or"]), expr(depth+1))
    if k == 5: return "%s | %s" % (expr(depth+1), R.choice(FILTERS0 + ["join(', ')", "default('D')", "replace('l','_')", "indent(2)", "round(1)", "map('upper') | list", "select('odd') | list", "selectattr('role', 'equalto', 'user') | list", "map(attribute='role') | list"]))
    if k == 6: return "%s is %s%s" % (expr(depth+1), R.choice(["", "not "]), R.choice(TESTS0 + ["divisibleby 2", "eq 3", "in [1,2,3]", "sameas none"]))
    if k == 7: return "%s.%s" % (R.choice(["s", "u", "d", "e", "'x,y'"]), R.choice(METHODS))
    if k == 8: return "%s[%s]" % (R.choice(VARS + ["'abcdef'"]), R.choice(["0", "-1", "1:", ":2", "::-1", "::2", "'a'", "1:-1", "5"]))
    if k == 9: return "%s if %s else %s" % (expr(depth+1), expr(depth+1), expr(depth+1))
    if k == 10: return "not " + expr(depth+1)
    return "%s.%s" % (R.choice(["d", "m[0]", "undef", "n"]), R.choice(["a", "role", "content", "zz"]))
def stmt(depth=0):
    k = R.randrange(8) if depth < 3 else 0
    if k <= 2: return "{{ %s }}" % expr()
    if k == 3: return "{%% for i in %s %%}[{{ loop.index }}:{{ i }}]%s{%% else %%}E{%% endfor %%}" % (R.choice(["l", "ls", "s", "d", "m", "range(3)", "undef", "[]"]), stmt(depth+1))
    if k == 4: return "{%% if %s %%}%s{%% elif %s %%}%s{%% else %%}%s{%% endif %%}" % (expr(), stmt(depth+1), expr(), stmt(depth+1), stmt(depth+1))
    if k == 5: return "{%% set v = %s %%}{{ v }}" % expr()
    if k == 6: return R.choice([" ", "\n", "  \n", "x", "{# c #}", "\n  "]) + R.choice(["{%- if t -%}", "{% if t %}", "{%+ if t %}"]) + stmt(depth+1) + R.choice(["{%- endif %}", "{% endif -%}", "{% endif %}\n"])
    return "{%% macro mm(a, b=2) %%}<{{ a }}{{ b }}>{%% endmacro %%}{{ mm(%s) }}" % expr()
def template():
    return "".join(stmt() for _ in range(R.randrange(1, 4)))
LAZY = ["dict_keys(", "dict_values(", "dict_items(", "generator object", "reverseiterator", "reversed object", " object at 0x"]
cases = []
count = int(sys.argv[2]) if len(sys.argv) > 2 else 800
while len(cases) < count:
    t = template()
    try:
        out = env.from_string(t).render(**copy.deepcopy(CTX)); err = None
    except jinja2.TemplateSyntaxError:
        continue
    except Exception as e:
        out = None; err = type(e).__name__ + ": " + str(e)
    if out is not None and any(b in out for b in LAZY):
        continue
    cases.append({"template": t, "rendered": out} if err is None else {"template": t, "error": err})
here = os.path.dirname(os.path.abspath(__file__))
json.dump({"jinja2": jinja2.__version__, "variables": CTX, "cases": cases},
          open(os.path.join(here, "random.json"), "w"), indent=0, ensure_ascii=False)
print(len(cases), "cases")
