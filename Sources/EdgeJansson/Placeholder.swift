// Placeholder until the jansson reader lands (issue 4); delete when real code is added.
import CJansson
