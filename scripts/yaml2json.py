#!/usr/bin/python3
"""yaml2json.py IN.yaml OUT.json — the build's YAML-to-JSON step for the
OpenAPI document (CMakeLists.txt). PyYAML follows YAML 1.1, where `on`
becomes a boolean and `2026-06-01` a date; here only true/false are
booleans and dates stay strings, as in YAML 1.2. Anything JSON cannot
hold is an error. tests/api/openapi.test.js checks the served JSON
against a YAML 1.2 parser's reading of the same file."""
import json
import re
import sys

import yaml


class Loader(yaml.SafeLoader):
    pass


# Drop the YAML 1.1 boolean and timestamp resolvers, keep the rest.
Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v
        if tag not in ('tag:yaml.org,2002:bool', 'tag:yaml.org,2002:timestamp')]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver('tag:yaml.org,2002:bool',
                             re.compile(r'^(?:true|True|TRUE|false|False|FALSE)$'),
                             list('tTfF'))


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: yaml2json.py IN.yaml OUT.json')
    with open(sys.argv[1], encoding='utf-8') as f:
        doc = yaml.load(f, Loader=Loader)
    text = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + '\n'
    with open(sys.argv[2], 'w', encoding='utf-8') as f:
        f.write(text)


if __name__ == '__main__':
    main()
