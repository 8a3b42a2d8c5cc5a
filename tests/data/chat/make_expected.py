#!/usr/bin/env python3
"""Writes expected.json: every template here rendered with every conversation in
conversations.json by Python Jinja2 configured as Hugging Face transformers configures it
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, its tojson and
raise_exception). Developer tool, run by hand (needs python3-jinja2); tests only read the
result. Usage: python3 tests/data/chat/make_expected.py"""
import glob, json, os
import jinja2, jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))

class Raised(Exception):
    pass

def raise_exception(message):
    raise Raised(message)

def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
convs = json.load(open(os.path.join(HERE, "conversations.json")))
out = {"jinja2": jinja2.__version__, "bos_token": "<s>", "eos_token": "</s>", "cases": []}
for path in sorted(glob.glob(os.path.join(HERE, "*.jinja"))):
    name = os.path.basename(path)
    template = env.from_string(open(path, encoding="utf-8").read())
    for conv, variables in convs.items():
        for agp in (True, False):
            v = dict(variables, bos_token="<s>", eos_token="</s>", add_generation_prompt=agp)
            case = {"template": name, "conversation": conv, "add_generation_prompt": agp}
            try:
                case["rendered"] = template.render(**v)
            except Raised as e:
                case["raised"] = str(e)
            except Exception as e:  # the template itself fails (e.g. str + None)
                case["error"] = type(e).__name__ + ": " + str(e)
            out["cases"].append(case)
json.dump(out, open(os.path.join(HERE, "expected.json"), "w"), indent=1, ensure_ascii=False)
print(len(out["cases"]), "cases")
