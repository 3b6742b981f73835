"""``python -m simweb SCENARIO.yaml [--phase NAME]``: serve a scenario until Ctrl-C.

Prints the three settings a checker needs on stdout, one per line, so a shell can
capture them; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
import threading

from .scenario import Scenario
from .schema import ScenarioError
from .server import SimulatedWeb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simweb", description=__doc__.splitlines()[0])
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--phase", help="phase to serve (default: the first one)")
    args = parser.parse_args(argv)
    try:
        scenario = Scenario.load(args.scenario)
        sim = SimulatedWeb(scenario, phase=args.phase)
    except (OSError, ScenarioError, ValueError) as exc:
        print(f"simweb: {exc}", file=sys.stderr)
        return 2
    with sim:
        print(f"GITHUB_API_URL={sim.github_api_url}")
        print(f"HF_ENDPOINT={sim.hf_endpoint}")
        for rule in sim.remap_rules:
            print(f"--remap '{rule}'")
        sys.stdout.flush()
        phases = ", ".join(scenario.phase_names) or "none"
        print(f"simweb: serving phase {sim.phase!r} (phases: {phases}); Ctrl-C to stop", file=sys.stderr)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("simweb: stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
