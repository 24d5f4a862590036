"""The accruals exchange format (spec §6, ``include/xml_schemas/accruals.xsd``)."""
from domiland.formats.xml_stream import RecordFormat

ACCRUALS = RecordFormat(name="accruals", root="Accruals", record="Accrual", xsd="accruals.xsd",
                        title_ru="Начисления")
