"""One root error for the local runtime; each message says what is wrong and how to fix it."""


class RuntimeErrorBase(Exception):
    """Root of the local runtime's user-facing errors."""


class DeployError(RuntimeErrorBase):
    """An ARM template or parameters file that cannot be deployed locally."""


class NotDeployedError(RuntimeErrorBase):
    """Nothing (or not that object) is deployed yet."""


class ActivityError(RuntimeErrorBase):
    """An activity failed; carries ADF's error shape."""

    def __init__(self, message: str, error_code: str = "ActivityFailed", failure_type: str = "UserError"):
        super().__init__(message)
        self.message, self.error_code, self.failure_type = message, error_code, failure_type
