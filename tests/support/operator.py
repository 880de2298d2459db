"""The operator key the test harnesses configure (`TABRIDGE_OPERATOR_KEYS`) and send."""

OPERATOR_KEY = "test-operator-key-0123456789abcdef"
AS_OPERATOR = {"Authorization": f"Bearer {OPERATOR_KEY}"}
