"""The hand-written retail facade that the declarative ``bastion_retail`` facade replaced, kept only as
the reference of the parity tests (results and error messages must stay byte-for-byte the same). It
shares the input models and the calculator with ``bastion_retail``: validation is not what is compared."""

from _reference_retail._http import LegacyClient
from _reference_retail._retail import RETAIL_ERRORS, TRANSFER_ACKNOWLEDGEMENT, RetailFacade

__all__ = ["RETAIL_ERRORS", "TRANSFER_ACKNOWLEDGEMENT", "LegacyClient", "RetailFacade"]
