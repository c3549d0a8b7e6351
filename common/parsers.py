"""The API's JSON parser: DRF's, with answers for the bodies the stdlib decoder chokes on."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """A body nested thousands deep exhausts the decoder's recursion (a 500 otherwise), and
    a number of thousands of digits is refused with a message naming Python internals."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("The JSON body is nested too deeply.") from None
        except ParseError as error:
            if "int_max_str_digits" in str(error.detail):
                raise ParseError("A number in the JSON body has too many digits.") from None
            raise
