"""Teaching: the reference equations, gradcheck, the worked step, diagnostics and their reading."""
