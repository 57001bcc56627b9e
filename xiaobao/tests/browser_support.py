"""Helpers for the browser tests: how Debian's chromium is launched, a watch over every page for
console errors and Content-Security-Policy violations, and numbered full-page screenshots."""

import re
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (containers), no GPU, and none of chromium's background traffic: nothing touches the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# Runs before any script of every document, so it also sees violations caused by the page's first bytes.
# Playwright injects it through the DevTools protocol, which the page's CSP does not govern.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                    " at " + e.sourceFile + ":" + e.lineNumber + " " + (e.sample || ""));
});
"""


class PageWatch:
    """Collects what a user would never see but a broken page leaves behind: console errors,
    uncaught exceptions and CSP violations. `check()` fails the test if any turned up."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        # Chromium asks every site for /favicon.ico; xiaobao has none yet, so that 404 is the browser's
        # own request, not the page's. Any other failed load still counts.
        self.expected: list[re.Pattern] = [re.compile(r"status of 404 .*\(https?://[^/]+/favicon\.ico\)$")]
        page.add_init_script(CSP_LISTENER)
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught exception: {exc}"))

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        text = f"console error: {message.text} ({message.location.get('url', '')})"
        if not any(pattern.search(text) for pattern in self.expected):
            self.problems.append(text)

    def expect_console_error(self, pattern: str) -> None:
        """Allow one known console error, e.g. chromium's note that the document itself was a 404."""
        self.expected.append(re.compile(pattern))

    def check(self) -> None:
        violations = self.page.evaluate("window.__csp || []")
        found = self.problems + [f"CSP violation on {self.page.url}: {v}" for v in violations]
        assert not found, "\n".join(found)


class Steps:
    """Numbered full-page screenshots, test-artifacts/screenshots/<test>-<NN>-<step>.png, each taken
    after checking the page for console errors and CSP violations."""

    def __init__(self, page, watch: PageWatch, test_name: str):
        self.page = page
        self.watch = watch
        self.prefix = re.sub(r"[^\w-]+", "_", test_name)
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, step: str) -> Path:
        self.count += 1
        path = SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{step}.png"
        self.page.screenshot(path=path, full_page=True)
        self.watch.check()
        return path
