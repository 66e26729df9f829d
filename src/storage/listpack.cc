// Filled in with the listpack encoding (issue 3).
