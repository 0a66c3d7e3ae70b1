/* The smallest exec: a static binary that exits 0 (benchmarks' exec storm target). */
int main(void)
{
	return 0;
}
