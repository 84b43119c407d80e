"""Validates recorded Gemini `generateContent` request bodies against the
official google-genai SDK types, whose pydantic models forbid unknown
fields. Run with `python3 -W error` so an unknown enum value (which the SDK
only warns about) fails too.

Usage: validate_gemini_requests.py FILE   (one JSON request body per line)
Prints one line per problem and exits 1 if there is any.
"""

import json
import sys

from google.genai import types

# The REST request's top-level fields we may send, and the SDK type of each.
FIELDS = {
    "contents": ("list", types.Content),
    "systemInstruction": ("one", types.Content),
    "tools": ("list", types.Tool),
    "toolConfig": ("one", types.ToolConfig),
    "generationConfig": ("one", types.GenerationConfig),
}


def validate(body, where):
    problems = []
    if not isinstance(body, dict):
        return [f"{where}: not a JSON object"]
    for key, value in body.items():
        if key not in FIELDS:
            problems.append(f"{where}: unknown top-level field {key!r}")
            continue
        shape, model = FIELDS[key]
        items = value if shape == "list" else [value]
        if shape == "list" and not isinstance(value, list):
            problems.append(f"{where}.{key}: not a list")
            continue
        for i, item in enumerate(items):
            at = f"{where}.{key}[{i}]" if shape == "list" else f"{where}.{key}"
            try:
                # JSON mode: bytes fields (thoughtSignature) are base64.
                model.model_validate_json(json.dumps(item))
            except Exception as e:  # pydantic.ValidationError or a warning turned error
                text = " ".join(str(e).split())
                problems.append(f"{at}: {type(e).__name__}: {text[:600]}")
    if "contents" not in body:
        problems.append(f"{where}: no contents")
    return problems


def main():
    path = sys.argv[1]
    problems = []
    count = 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                count += 1
                problems += validate(json.loads(line), f"request {n}")
    for p in problems:
        print(p)
    print(f"{count} requests checked, {len(problems)} problems")
    sys.exit(1 if problems or count == 0 else 0)


if __name__ == "__main__":
    main()
