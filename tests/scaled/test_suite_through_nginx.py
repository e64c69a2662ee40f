"""The conversation cases of tests/e2e/, each a fresh conversation, through nginx to the two replicas.

The same cases and checks as against a single server (`make run`): scaling out changes no answer.
"""
import pytest

from tests.e2e.test_conversation_cases import CASES, case_param
from tests.e2e.test_conversation_cases import test_conversation_case as check_case  # not collected again here
from tests.scaled.conftest import through_nginx

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("case", [case_param(f, c) for f, c in CASES])  # strict xfails too
def test_conversation_case_through_nginx(scaled, case):
    check_case(through_nginx(scaled), case)
