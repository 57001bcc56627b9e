#!/usr/bin/env bash
# pip-audit of the pinned dependencies (constraints.txt): fails on any known vulnerability.
# On an intranet without a vulnerability database (a PyPI mirror without its JSON API, no OSV) the
# packages cannot be checked: that is said plainly, with the count, and does not fail the build.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
report=var/pip-audit.json
status=0
.venv/bin/pip-audit -r constraints.txt --no-deps --disable-pip --progress-spinner off \
  -f json -o "$report" 2>var/pip-audit.log || status=$?
.venv/bin/python - "$report" "$status" <<'PY'
import json, sys
report, status = json.load(open(sys.argv[1])), int(sys.argv[2])
deps = report.get("dependencies", [])
skipped = [d for d in deps if d.get("skip_reason")]
vulnerable = [d for d in deps if d.get("vulns")]
print(f"pip-audit: {len(deps)} 个依赖, 已审计 {len(deps) - len(skipped)}, 无法审计 {len(skipped)}, 有已知漏洞 {len(vulnerable)}")
for d in vulnerable:
    print(f"  {d['name']} {d['version']}: " + ", ".join(v["id"] for v in d["vulns"]))
if skipped and len(skipped) == len(deps):
    print("  漏洞库不可达 (本机只连到软件包镜像): 本次未能审计任何依赖")
sys.exit(1 if vulnerable or (status and not skipped) else 0)
PY
