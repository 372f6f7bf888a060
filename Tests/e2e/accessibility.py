"""axe-core on the page in the browser, at a phone's two widths (375 and 320 CSS pixels).

axe-core itself (axe.min.js) comes from PyPI's axe-selenium-python, which ships it; it is injected into the page as
it is and run with its default rules (WCAG 2.0/2.1 A and AA plus axe's best practices). Any violation fails the
walk, naming the rule, the elements and axe's own explanation."""

import json
import pathlib

import axe_selenium_python

AXE_JS = (pathlib.Path(axe_selenium_python.__file__).parent / "node_modules" / "axe-core" / "axe.min.js").read_text()
WIDTHS = (375, 320)


# The axe-core that axe-selenium-python ships (3.1.1) predates the HTML standard's "one-time-code" autofill token
# (which the SMS code fields use so that phones offer the code they received); axe-core 4 knows it. Only that token
# is added to the check's list; everything else is axe's own.
CONFIGURE = ("axe.configure({checks: [{id: 'autocomplete-valid', options: {standaloneTerms: ['one-time-code']}}]});")


def violations(driver):
    """axe.run on the current document; the list of violations (rule id, impact, help, nodes)."""
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(AXE_JS)
        driver.execute_script(CONFIGURE)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")


def describe(found):
    lines = []
    for v in found:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:6]:
            lines.append(f"    {json.dumps(node['target'], ensure_ascii=False)}: {(node['summary'] or '').splitlines()[-1:]}")
    return "\n".join(lines)


def assert_accessible(driver, where, height=812):
    """axe at each phone width (device emulation over CDP); afterwards the page is shown at 375 again."""
    driver.set_script_timeout(60)
    problems = []
    try:
        for width in WIDTHS:
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})
            found = violations(driver)
            if found:
                problems.append(f"at {width} px:\n{describe(found)}")
    finally:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 375, "height": height, "deviceScaleFactor": 2, "mobile": True})
    assert not problems, f"axe-core finds violations on {where}:\n" + "\n".join(problems)
