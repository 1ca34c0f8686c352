/* The program the exec storm runs: built with -static so each exec costs the
 * kernel's exec path and nothing of the dynamic loader's. It ignores its
 * arguments (argv[1] is the run tag the tracers' output is matched on). */
int main(void)
{
	return 0;
}
