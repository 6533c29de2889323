/// The report of `miauflix config check`: one line per variable, secrets never shown.
public enum ConfigCheck {
    /// Report lines and whether every value is valid.
    public static func report(values: [String: String]) -> (lines: [String], valid: Bool) {
        var lines: [String] = []
        var valid = true
        for variable in ConfigCatalog.variables {
            let raw = values[variable.name] ?? ""
            let effective = raw.isEmpty ? (variable.defaultValue ?? "") : raw
            let shown = variable.secret ? (effective.isEmpty ? "" : "(set)") : effective
            if effective.isEmpty && variable.required {
                lines.append("MISSING  \(variable.name)  [\(variable.service)] \(variable.summary)")
            } else if !effective.isEmpty, let problem = ConfigValueParser.problem(effective, kind: variable.kind) {
                valid = false
                lines.append("INVALID  \(variable.name)  \(problem)")
            } else {
                lines.append("ok       \(variable.name)=\(shown)")
            }
        }
        do {
            _ = try Configuration(values: values)
        } catch {
            if valid { lines.append("INVALID  \(error.variable)  \(error.problem)") }
            valid = false
        }
        return (lines, valid)
    }
}
