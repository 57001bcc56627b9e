#!/usr/bin/env bash
# Installs xiaobao into ./.venv with pinned dependencies and its locally served front-end assets.
#   scripts/install.sh          the product
#   scripts/install.sh --test   the product, the test tools, Debian's chromium and a CJK font
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_TEST=0
[ "${1:-}" = "--test" ] && WITH_TEST=1

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "xiaobao 需要 Python 3.11 或更高版本" >&2; exit 1; }
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
have npm || need_apt+=(nodejs npm)
# A Chinese font for the charts of the Word reports (and the browser tests' screenshots).
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need_apt+=(fonts-noto-cjk)
if [ "$WITH_TEST" = 1 ]; then
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
  have msgfmt || need_apt+=(gettext)
  have java || need_apt+=(openjdk-17-jre-headless)  # Spark, for the KPI parity test
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "安装系统软件包: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$WITH_TEST" = 1 ]; then
  .venv/bin/pip install -q -c constraints.txt -e ".[test]"
else
  .venv/bin/pip install -q -c constraints.txt -e .
fi

# Front-end assets come from the npm registry at install time, pinned by package-lock.json,
# and are served by xiaobao itself: no CDN, nothing pasted into the repository.
npm ci --no-audit --no-fund --loglevel=error
mkdir -p xiaobao/static/vendor
cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js xiaobao/static/vendor/
(cd xiaobao && ../.venv/bin/xiaobao compilemessages -v 0) 2>/dev/null \
  || echo "(未找到 gettext, 使用仓库中已编译的翻译文件)"
echo "安装完成"
