"""simweb: a simulated GitHub API, Hugging Face Hub API and project web on 127.0.0.1.

paperwatch's real clients talk to it unmodified over sockets; one YAML scenario
(with phases) decides every answer. See simweb/README.md for the scenario format.
"""

from .scenario import Scenario
from .schema import ScenarioError
from .server import SimulatedWeb, free_port
from .state import RequestRecord

__all__ = ["RequestRecord", "Scenario", "ScenarioError", "SimulatedWeb", "free_port"]
