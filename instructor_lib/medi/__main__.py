"""`python -m instructor_lib.medi --preset cpu --variant full --out PATH`: build MEDI and print its stats."""
from .build import main

main()
