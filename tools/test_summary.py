#!/usr/bin/env python3
"""Counts test cases across Bazel runs and prints "N passed, N failed".

Each argument is a Build Event Protocol JSON file (bazel --build_event_json_file). A test
target's cases come from its test.xml (GoogleTest writes one case per TEST; other test kinds
count as one case). A target that failed to build, timed out or crashed without a test.xml
counts as one failure. Exit status is 0 only if nothing failed.
"""

import json
import sys
import urllib.parse
import xml.etree.ElementTree as ET


def cases_from_xml(path):
    """Returns (passed, failed) from a JUnit XML file, or None if it cannot be read."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    passed = failed = 0
    for case in root.iter("testcase"):
        if case.get("status") == "notrun" or case.find("skipped") is not None:
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        else:
            passed += 1
    if passed + failed == 0:
        return None
    return passed, failed


def summarize(bep_path):
    passed = failed = 0
    failures = []
    try:
        lines = open(bep_path).read().splitlines()
    except OSError:
        return 0, 1, [f"no build events in {bep_path} (bazel did not run)"]
    # Last attempt per (target, run, shard) decides.
    results = {}
    aborted = []
    for line in lines:
        event = json.loads(line)
        eid = event.get("id", {})
        if "testResult" in eid:
            key = (eid["testResult"]["label"], eid["testResult"].get("run"),
                   eid["testResult"].get("shard"))
            results[key] = event.get("testResult", {})
        elif "targetCompleted" in eid and not event.get("completed", {}).get("success", True):
            aborted.append(eid["targetCompleted"]["label"])
        elif event.get("aborted") and "targetConfigured" in eid:
            aborted.append(eid["targetConfigured"]["label"])
    for (label, _, _), result in sorted(results.items()):
        status = result.get("status", "FAILED")
        counted = None
        for out in result.get("testActionOutput", []):
            if out.get("name") == "test.xml":
                uri = out.get("uri", "")
                path = urllib.parse.urlparse(uri).path if uri.startswith("file:") else uri
                counted = cases_from_xml(path)
        if status == "PASSED":
            passed += counted[0] if counted else 1
        else:
            if counted and counted[1] > 0:
                passed += counted[0]
                failed += counted[1]
            else:
                failed += 1
            failures.append(f"{label}: {status}")
    for label in aborted:
        failed += 1
        failures.append(f"{label}: did not build")
    return passed, failed, failures


def main():
    total_passed = total_failed = 0
    for path in sys.argv[1:]:
        p, f, failures = summarize(path)
        total_passed += p
        total_failed += f
        for line in failures:
            print("FAILED:", line)
    print(f"{total_passed} passed, {total_failed} failed")
    return 0 if total_failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
