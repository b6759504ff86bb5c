/* yaml2json.h -- `--stats FILE.json`: the stats YAML rewritten as JSON, for readers without a
 * YAML parser (Python's json module). One writer of the stats (report.c, yamlout.h) and this
 * translation keep the two forms the same document: mappings become objects (keys in order),
 * sequences arrays; a plain scalar that is a JSON number stays a number, true/false/null and
 * an empty plain scalar become JSON's, .nan and +-.inf (which JSON lacks) become null, and
 * every other scalar, quoted or not, a string. */
#ifndef IMC_YAML2JSON_H
#define IMC_YAML2JSON_H

#include <stddef.h>
#include <stdio.h>

#include "sim/base/err.h"

/* Write the YAML document TEXT (LEN bytes, one document, no aliases) to OUT as JSON. NAME
 * names TEXT in an error. 0, or IMC_EINPUT when TEXT is not such YAML. */
int imc_yaml_to_json(const char *text, size_t len, const char *name, FILE *out, imc_err *err);

#endif
