from ninja import NinjaAPI

from .auth import TokenAuth
from .errors import install_error_handlers

api = NinjaAPI(
    title="ansinh API",
    version="1",
    description="Registry and payment data of ansinh, scoped to the areas of the token's user.",
    auth=TokenAuth(),
    urls_namespace="api",
)
install_error_handlers(api)

from . import areas  # noqa: E402

api.add_router("/", areas.router)

from . import registry  # noqa: E402

api.add_router("/", registry.router)

from . import notifications  # noqa: E402

api.add_router("/", notifications.router)

from . import payments  # noqa: E402

api.add_router("/", payments.router)

from . import verification  # noqa: E402

api.add_router("/", verification.router)

from . import quality  # noqa: E402

api.add_router("/", quality.router)

from . import coverage  # noqa: E402

api.add_router("/", coverage.router)

from . import openings  # noqa: E402

api.add_router("/", openings.router)

from . import payroll  # noqa: E402

api.add_router("/", payroll.router)

from . import payroll_receivables  # noqa: E402

api.add_router("/", payroll_receivables.router)

from . import payroll_funding  # noqa: E402

api.add_router("/", payroll_funding.router)

from . import payroll_changes  # noqa: E402

api.add_router("/", payroll_changes.router)

from . import payroll_approval  # noqa: E402

api.add_router("/", payroll_approval.router)

from . import disbursement  # noqa: E402

api.add_router("/", disbursement.router)

from . import cashout  # noqa: E402

api.add_router("/", cashout.router)

from . import complaints  # noqa: E402

api.add_router("/", complaints.router)

from . import applications  # noqa: E402

api.add_router("/", applications.router)

from . import monitoring, reconciliation, reports  # noqa: E402

api.add_router("/", reconciliation.router)
api.add_router("/", reports.router)
api.add_router("/", monitoring.router)
