"""Rules a change must pass against the code lists, applied when it is written.

Kept out of the models on purpose: a stored record or a published event stays readable
when a code list changes later (a country graduates from the LDC list, a community gains
a member); only new writes are held to the current lists.
"""

from __future__ import annotations

from shared._errors import Fault
from shared.domain.activity import ActivityFields, Beneficiary
from shared.domain.codelists import Codelists


def check_fields(fields: ActivityFields, lists: Codelists) -> tuple[ActivityFields, list[Fault]]:
    """The fields with each beneficiary's status filled in, and every fault found.

    Faults are located by JSON pointer into the request body.
    """
    faults: list[Fault] = []
    beneficiaries: list[Beneficiary] = []
    for i, beneficiary in enumerate(fields.beneficiaries):
        pointer = f"/beneficiaries/{i}"
        country = beneficiary.country
        if country not in lists.countries:
            faults.append(Fault(f"{pointer}/country", f"{country!r} is not an ISO 3166-1 country"))
            continue
        derived = lists.development_status(country)
        if derived is None:
            faults.append(
                Fault(
                    f"{pointer}/country",
                    f"{country} is a developed economy; TA beneficiaries are developing "
                    "countries, LDCs and economies in transition",
                )
            )
            continue
        if beneficiary.status is not None and beneficiary.status != derived:
            faults.append(
                Fault(
                    f"{pointer}/status",
                    f"{country} is {derived!r} on the list as of {lists.status_as_of}, "
                    f"not {beneficiary.status!r}",
                )
            )
            continue
        beneficiaries.append(Beneficiary(country=country, status=derived))
    for i, code in enumerate(fields.regional_communities):
        if code not in lists.communities:
            faults.append(
                Fault(
                    f"/regional_communities/{i}",
                    f"{code!r} is not a known regional community ({', '.join(lists.communities)})",
                )
            )
    if faults:
        return fields, faults
    return fields.model_copy(update={"beneficiaries": beneficiaries}), []
