"""Pure detection: records in, findings out. No Kafka, no SQL, no I/O beyond this package's own data files."""

from detectors.engine import DetectionEngine, DetectorError, detector_version
from detectors.findings import Evidence, Finding
from detectors.normalize import NormalizedText, normalize
from detectors.registries import Registries

__all__ = ["DetectionEngine", "DetectorError", "Evidence", "Finding", "NormalizedText", "Registries", "detector_version", "normalize"]
