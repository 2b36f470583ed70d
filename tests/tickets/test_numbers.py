import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from incidents.services import incident_create
from tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_creations_get_distinct_well_formed_numbers():
    # given
    requester = UserFactory(username="concurrent")

    def create(i: int) -> str:
        try:
            return incident_create(
                requester=requester, by=requester, title=f"Parallel {i}"
            ).ticket.number
        finally:
            connection.close()

    # when
    with ThreadPoolExecutor(max_workers=20) as pool:
        numbers = list(pool.map(create, range(20)))
    # then
    assert len(set(numbers)) == 20
    assert all(re.fullmatch(r"INC\d{7}", n) for n in numbers)
