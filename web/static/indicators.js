// The indicators table, sortable by any column (places without the figure last).
import { sortable } from './sortable.js';

sortable(document.getElementById('indicators-table'));
