# lit configuration of kiln's IR tests: every .kir file under test/lit is a test.
import os
import lit.formats

config.name = "kiln"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".kir", ".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test", "lit")
config.substitutions.append(("%kiln-src", config.kiln_src_root))
for tool in ("kiln-opt", "kiln-compile", "kiln-run", "kiln-inspect"):
    config.substitutions.append(("%" + tool, os.path.join(config.kiln_tools_dir, tool)))
# Engines run on the CPU (POCL) in tests, whatever else is installed, and never touch the user's
# program-binary cache.
config.environment["KILN_DEVICE"] = "cpu"
config.environment["XDG_CACHE_HOME"] = os.path.join(config.test_exec_root, "cache")
config.substitutions.append(("FileCheck", config.filecheck))
config.substitutions.append(("%not", config.not_tool))
# ONNX lit tests build their models with Debian's python3 (python3-onnx, python3-numpy), not
# whatever python3 comes first on PATH.
config.substitutions.append(("%python", "/usr/bin/python3"))
config.environment.pop("PYTHONPATH", None)
config.environment.pop("PYTHONHOME", None)
config.environment["LC_ALL"] = "C"
# Sanitizer builds: fail a test on any report.
config.environment["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
config.environment["LSAN_OPTIONS"] = "suppressions=" + os.path.join(config.kiln_src_root, "test", "lsan.supp")
config.environment["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
