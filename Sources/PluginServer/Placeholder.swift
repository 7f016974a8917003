// Placeholder until the PluginServer owner lands code.
enum PluginServerPlaceholder {}
