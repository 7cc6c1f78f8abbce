"""Models of ansinh.reconciliation, one module per part (issue 13): the ledger per cycle
(`ledger`), bank statements and their matching (`statements`), reconciliation exceptions
(`exceptions`), provider and office settlement (`settlement`)."""

from .exceptions import *  # noqa: F403
from .ledger import *  # noqa: F403
from .settlement import *  # noqa: F403
from .statements import *  # noqa: F403
